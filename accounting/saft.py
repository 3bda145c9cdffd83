"""Skatteetaten's SAF-T standard VAT codes (MVA-koder), read from the CSV shipped in data/.

The file names each code's rate by class ("Regular rate", "Reduced rate, middle", ...); the
percentages of those classes are Norwegian law and stated here. Sales rows of a voucher may
only carry an output code (utgående mva or a zero/outside-VAT turnover code) whose rate is
the rate of the sale: 3 = 25 %, 31 = 15 %, 32 = 11,11 %, 33 = 12 %, 5/51/52/6/7 = 0 %.
"""

import csv
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

CSV_PATH = Path(__file__).resolve().parent / "data" / "saft-standard-tax-codes.csv"

RATE_OF_CLASS = {
    "Regular rate": Decimal("25"),
    "Reduced rate, middle": Decimal("15"),
    "Reduced rate, raw fish": Decimal("11.11"),
    "Reduced rate, low": Decimal("12"),
    "Zero rate": Decimal("0"),
}

# Codes a sale may carry. 6 (outside the VAT Act) and 7 (no VAT treatment, income) have no
# rate class in the file; on a sale they mean "no VAT", i.e. 0 %.
SALES_CODES = ("3", "31", "32", "33", "5", "51", "52", "6", "7")
NO_VAT_SALES_CODES = ("6", "7")


@dataclass(frozen=True)
class TaxCode:
    code: str
    description: str  # Norwegian, as Skatteetaten writes it
    description_en: str
    rate: Decimal | None  # percent; None where the code has no rate
    sales: bool  # may be used on a sales row

    @property
    def label(self) -> str:
        return f"{self.code} – {self.description}"


@cache
def tax_codes() -> dict[str, TaxCode]:
    codes: dict[str, TaxCode] = {}
    with CSV_PATH.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle, delimiter=";"):
            code = row["Code"].strip()
            rate = RATE_OF_CLASS.get(row["TaxRate"].strip())
            if rate is None and code in NO_VAT_SALES_CODES:
                rate = Decimal("0")
            codes[code] = TaxCode(
                code=code,
                description=row["DescriptionNOB"].strip(),
                description_en=row["DescriptionENG"].strip(),
                rate=rate,
                sales=code in SALES_CODES,
            )
    return codes


def tax_code(code: str) -> TaxCode | None:
    return tax_codes().get(str(code).strip())


def sales_codes() -> list[TaxCode]:
    """The codes a sales row may carry, in the order an accountant expects them."""
    codes = tax_codes()
    return [codes[c] for c in SALES_CODES if c in codes]
