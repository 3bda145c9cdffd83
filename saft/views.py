"""Dagsoppgjør > Importer SAF-T: admins upload, everyone of the organisation follows the
import and reads its report (DESIGN.md 4.6)."""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from backoffice.tenancy import OrgRequest, member_required

from . import services
from .forms import UploadForm
from .models import SaftImport

RECENT = 20


@require_http_methods(["GET", "POST"])
@member_required
def imports(request: OrgRequest) -> HttpResponse:
    """The imports of the organisation, and (admins) the upload. Uploads are written to a
    temporary file on disk whatever their size (settings.FILE_UPLOAD_HANDLERS)."""
    org = request.org
    form = None
    if request.membership.is_admin:
        form = UploadForm(
            request.POST or None,
            request.FILES or None,
            organization=org,
            max_bytes=settings.SAFT_MAX_UPLOAD_BYTES,
        )
    if request.method == "POST":
        if form is None:
            raise PermissionDenied(_("Bare administratorer kan importere SAF-T-filer."))
        if form.is_valid():
            saft_import = services.start_import(
                location=form.cleaned_data["location"],
                user=request.user,
                uploads=form.cleaned_data["files"],
            )
            return redirect("saft:detail", pk=saft_import.pk)
    recent = SaftImport.objects.filter(organization=org).select_related("location")[:RECENT]
    return render(request, "saft/imports.html", {"form": form, "imports": recent})


@require_GET
@member_required
def detail(request: OrgRequest, pk: int) -> HttpResponse:
    saft_import = get_object_or_404(
        SaftImport.objects.select_related("location"), pk=pk, organization=request.org
    )
    return render(request, "saft/detail.html", {"imp": saft_import, "label": _label(saft_import)})


@require_GET
@member_required
def status(request: OrgRequest, pk: int) -> JsonResponse:
    saft_import = get_object_or_404(SaftImport, pk=pk, organization=request.org)
    return JsonResponse(
        {
            "active": saft_import.active,
            "status": saft_import.status,
            "done": saft_import.bytes_done,
            "total": saft_import.bytes_total,
            "label": _label(saft_import),
        }
    )


def _label(saft_import: SaftImport) -> str:
    if saft_import.status == SaftImport.Status.QUEUED:
        return _("I kø")
    if saft_import.status == SaftImport.Status.RUNNING:
        return _("Leser: %(percent)s %%") % {"percent": saft_import.percent}
    return saft_import.get_status_display()
