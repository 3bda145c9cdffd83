"""Each existing account becomes one per fiscal year of its company."""

from django.db import migrations


def one_chart_per_year(apps, schema_editor):
    Account = apps.get_model("visma_sandbox", "SandboxAccount")
    FiscalYear = apps.get_model("visma_sandbox", "SandboxFiscalYear")
    years: dict[int, list] = {}
    for year in FiscalYear.objects.order_by("start_date"):
        years.setdefault(year.company_id, []).append(year)
    copies = []
    for account in Account.objects.filter(fiscal_year__isnull=True):
        company_years = years.get(account.company_id, [])
        if not company_years:
            account.delete()  # no year to hold it; setup_demo brings the chart back
            continue
        first, *rest = company_years
        account.fiscal_year = first
        account.save(update_fields=["fiscal_year"])
        for year in rest:
            copies.append(
                Account(
                    company_id=account.company_id,
                    fiscal_year=year,
                    number=account.number,
                    name=account.name,
                    vat_code_id=account.vat_code_id,
                    is_active=account.is_active,
                )
            )
    Account.objects.bulk_create(copies)


class Migration(migrations.Migration):
    dependencies = [
        ("visma_sandbox", "0005_charts_per_fiscal_year"),
    ]

    operations = [
        migrations.RunPython(one_chart_per_year, migrations.RunPython.noop),
    ]
