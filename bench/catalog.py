"""A bench-only ACCOUNTING_CATALOG_PROVIDER: the company's chart as the kontooppsett page
sees it, of any size, without Visma (benchmark 7 sets ACCOUNTS and overrides the setting)."""

from accounting import saft
from accounting.catalog import Catalog, KnownAccount, KnownVatCode

from .data import OUTPUT_VAT, SALES, SINGLES, STANDARD_PAYMENTS

ACCOUNTS = 500  # set by the benchmark before it renders the page


def chart(size: int) -> dict[int, KnownAccount]:
    """`size` accounts: every account the standard kontooppsett uses, then 4-digit fillers."""
    used = {account for account, _code in SALES.values()}
    used |= set(OUTPUT_VAT.values()) | set(STANDARD_PAYMENTS.values()) | set(SINGLES.values())
    numbers = sorted(used)[:size]
    filler = 1000
    while len(numbers) < size:
        if filler not in used:
            numbers.append(filler)
        filler += 7
    return {n: KnownAccount(number=n, name=f"Konto {n}") for n in sorted(numbers)}


def bench_catalog(organization) -> Catalog:
    codes = {
        c.code: KnownVatCode(code=c.code, description=c.description, rate=c.rate)
        for c in saft.tax_codes().values()
    }
    return Catalog(accounts=chart(ACCOUNTS), vat_codes=codes, source="Benk-regnskap")
