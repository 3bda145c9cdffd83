"""Dagsoppgjør > Importer SAF-T: admins upload, the worker reads, the page reports."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from saft import services
from saft.models import SaftImport
from settlements.models import Settlement

from .conftest import example_text, wrong_vat_base

URL = "/dagsoppgjor/saft/"


def upload(client, location, *texts: str):
    files = [
        SimpleUploadedFile(f"kasse-{i}.xml", t.encode(), "text/xml") for i, t in enumerate(texts)
    ]
    return client.post(URL, {"location": location.pk, "files": files})


def test_it_stores_the_upload_on_disk_and_queues_it(
    client, alice, location, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.SAFT_UPLOAD_DIR = tmp_path / "uploads"
    client.force_login(alice)

    with django_capture_on_commit_callbacks() as queued:
        response = upload(client, location, example_text())

    imp = SaftImport.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{URL}{imp.pk}/"
    assert len(queued) == 1
    [entry] = imp.files
    assert entry["name"] == "kasse-0.xml"
    assert (tmp_path / "uploads" / f"{imp.pk}-0.xml").read_text(encoding="utf-8") == example_text()
    assert imp.status == SaftImport.Status.QUEUED
    page = client.get(response["Location"]).content.decode()
    assert "I kø" in page and "js/saft-import.js" in page


def test_the_report_names_each_z_report_with_a_link(client, alice, location, settings, tmp_path):
    settings.SAFT_UPLOAD_DIR = tmp_path
    client.force_login(alice)
    upload(
        client,
        location,
        example_text(),
        wrong_vat_base(example_text()).replace("<reportID>1<", "<reportID>2<"),
    )
    imp = SaftImport.objects.get()

    services.run_import(imp.pk)

    imp.refresh_from_db()
    assert imp.status == SaftImport.Status.DONE and imp.bytes_done == imp.bytes_total
    assert not list(tmp_path.glob("*.xml"))  # the uploads are gone once read
    html = client.get(f"{URL}{imp.pk}/").content.decode()
    first, second = Settlement.objects.order_by("z_number")
    assert f'href="/dagsoppgjor/{first.pk}/">1</a>' in html and "lagret" in html
    assert f'href="/dagsoppgjor/{second.pk}/">2</a>' in html and "trenger handling" in html
    assert "MVA 102,85 stemmer ikke med 25 % av 411,40" in html
    status = client.get(f"{URL}{imp.pk}/status.json").json()
    assert status["active"] is False and status["status"] == "done"


def test_an_invalid_file_is_reported_whole(client, alice, location, settings, tmp_path):
    settings.SAFT_UPLOAD_DIR = tmp_path
    client.force_login(alice)
    upload(
        client, location, example_text().replace("<reportDate>2020-01-01<", "<reportDate>1.1.2020<")
    )

    services.run_import(SaftImport.objects.get().pk)

    html = client.get(f"{URL}{SaftImport.objects.get().pk}/").content.decode()
    assert "Filen er avvist i sin helhet og ingenting er lagret" in html
    assert "&lt;reportDate&gt;: &#x27;1.1.2020&#x27; is not a valid value" in html
    assert not Settlement.objects.exists()


def test_staff_see_the_imports_but_cannot_start_one(
    client, alice, bob, location, settings, tmp_path
):
    settings.SAFT_UPLOAD_DIR = tmp_path
    client.force_login(alice)
    upload(client, location, example_text())
    client.force_login(bob)

    page = client.get(URL).content.decode()

    assert "kasse-0.xml" in page and 'type="file"' not in page
    assert "Bare administratorer kan starte en import" in page
    assert upload(client, location, example_text()).status_code == 403
    assert SaftImport.objects.count() == 1


@pytest.mark.django_db
def test_another_organisations_import_is_not_found(client, charlie, location, settings, tmp_path):
    imp = SaftImport.objects.create(organization=location.organization, location=location)
    client.force_login(charlie)

    assert client.get(f"{URL}{imp.pk}/").status_code == 404
    assert client.get(f"{URL}{imp.pk}/status.json").status_code == 404


def test_the_store_must_be_the_organisations_own(client, alice, other_location):
    client.force_login(alice)

    response = upload(client, other_location, example_text())

    assert response.status_code == 200 and not SaftImport.objects.exists()


def test_the_page_speaks_english_too(client, alice, location, settings, tmp_path):
    settings.SAFT_UPLOAD_DIR = tmp_path
    client.force_login(alice)
    upload(client, location, wrong_vat_base(example_text()))
    services.run_import(SaftImport.objects.get().pk)
    client.post("/i18n/setlang/", {"language": "en"})

    html = client.get(f"{URL}{SaftImport.objects.get().pk}/").content.decode()

    assert "SAF-T import" in html and "needs action" in html
    # The reason is stored as the shop's records have it, in Norwegian.
    assert "MVA 102,85 stemmer ikke med 25 % av 411,40" in html
