"""The simulated companies and their books: a Norwegian chart of accounts in the NS 4102
numbering written for this project (names are our own wording, not Regnskap Norge's list),
Norway's SAF-T standard VAT codes as Visma exposes them, and fiscal years.

Ids are stable: uuid5 of the company's org number and the thing, so they survive a reset and
differ between companies (a client that mixes up two companies' VAT code ids is caught).
"""

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

NAMESPACE = uuid.UUID("6b0f4c52-6d0a-4a5e-9a1c-2d7f0e3b5a11")

DEMO_USER_EMAIL = "demo@visma.example"
DEMO_USER_PASSWORD = "demo"


def stable_id(org_number: str, kind: str, key: object) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"{org_number}:{kind}:{key}")


# (code, description, rate as a fraction, related accounts (AccountNumber1..3))
VAT_CODES: list[tuple[str, str, Decimal, tuple[int | None, ...]]] = [
    ("0", "Ingen mva-behandling (anskaffelser)", Decimal("0"), ()),
    ("1", "Inngående mva, høy sats", Decimal("0.25"), (2710,)),
    ("11", "Inngående mva, middels sats", Decimal("0.15"), (2711,)),
    ("12", "Inngående mva, råfisk", Decimal("0.1111"), (2712,)),
    ("13", "Inngående mva, lav sats", Decimal("0.12"), (2713,)),
    ("14", "Inngående mva betalt ved innførsel, høy sats", Decimal("0.25"), (2714,)),
    ("15", "Inngående mva betalt ved innførsel, middels sats", Decimal("0.15"), (2714,)),
    ("20", "Innførsel av varer, ingen mva-behandling", Decimal("0"), ()),
    ("21", "Grunnlag innførsel av varer, høy sats", Decimal("0.25"), ()),
    ("22", "Grunnlag innførsel av varer, middels sats", Decimal("0.15"), ()),
    ("3", "Utgående mva, høy sats", Decimal("0.25"), (2700,)),
    ("31", "Utgående mva, middels sats", Decimal("0.15"), (2701,)),
    ("32", "Utgående mva, råfisk", Decimal("0.1111"), (2702,)),
    ("33", "Utgående mva, lav sats", Decimal("0.12"), (2703,)),
    ("5", "Omsetning fritatt for mva (nullsats)", Decimal("0"), ()),
    ("51", "Innenlands omsetning, omvendt avgiftsplikt", Decimal("0"), ()),
    ("52", "Utførsel av varer og tjenester", Decimal("0"), ()),
    ("6", "Omsetning utenfor merverdiavgiftsloven", Decimal("0"), ()),
    ("7", "Ingen mva-behandling (inntekter)", Decimal("0"), ()),
    ("81", "Innførsel av varer med fradrag, høy sats", Decimal("0.25"), (2710, 2700)),
    ("82", "Innførsel av varer uten fradrag, høy sats", Decimal("0.25"), (2700,)),
    ("83", "Innførsel av varer med fradrag, middels sats", Decimal("0.15"), (2711, 2701)),
    ("84", "Innførsel av varer uten fradrag, middels sats", Decimal("0.15"), (2701,)),
    ("85", "Innførsel av varer, nullsats", Decimal("0"), ()),
    ("86", "Tjenester kjøpt fra utlandet med fradrag, høy sats", Decimal("0.25"), (2710, 2700)),
    ("87", "Tjenester kjøpt fra utlandet uten fradrag, høy sats", Decimal("0.25"), (2700,)),
    ("88", "Tjenester kjøpt fra utlandet med fradrag, lav sats", Decimal("0.12"), (2713, 2703)),
    ("89", "Tjenester kjøpt fra utlandet uten fradrag, lav sats", Decimal("0.12"), (2703,)),
    ("91", "Kjøp av klimakvoter eller gull med fradrag", Decimal("0.25"), (2710, 2700)),
    ("92", "Kjøp av klimakvoter eller gull uten fradrag", Decimal("0.25"), (2700,)),
]

# (number, name, default VAT code or None). A shop's everyday chart.
BASE_ACCOUNTS: list[tuple[int, str, str | None]] = [
    (1200, "Maskiner og anlegg", None),
    (1250, "Inventar og innredning", None),
    (1280, "Kontormaskiner og datautstyr", None),
    (1460, "Varelager, innkjøpte varer", None),
    (1500, "Kundefordringer", None),
    (1570, "Andre kortsiktige fordringer", None),
    (1700, "Forskuddsbetalte kostnader", None),
    (1900, "Kontanter i kasse", None),
    (1901, "Kortoppgjør til gode", None),
    (1902, "Vipps til gode", None),
    (1909, "Kassedifferanse til avklaring", None),
    (1911, "Mellomregning kasse (innskudd og uttak)", None),
    (1920, "Driftskonto bank", None),
    (1950, "Skattetrekkskonto", None),
    (2000, "Aksjekapital", None),
    (2050, "Annen egenkapital", None),
    (2400, "Leverandørgjeld", None),
    (2600, "Forskuddstrekk", None),
    (2700, "Utgående mva, høy sats", None),
    (2701, "Utgående mva, middels sats", None),
    (2702, "Utgående mva, råfisk", None),
    (2703, "Utgående mva, lav sats", None),
    (2710, "Inngående mva, høy sats", None),
    (2711, "Inngående mva, middels sats", None),
    (2712, "Inngående mva, råfisk", None),
    (2713, "Inngående mva, lav sats", None),
    (2714, "Inngående mva ved innførsel", None),
    (2740, "Oppgjørskonto mva", None),
    (2770, "Skyldig arbeidsgiveravgift", None),
    (2900, "Annen kortsiktig gjeld", None),
    (2901, "Gavekort i omløp", None),
    (2910, "Tips til ansatte", None),
    (2940, "Skyldige feriepenger", None),
    (2960, "Påløpte kostnader", None),
    (3000, "Salg, høy sats", "3"),
    (3030, "Salg, middels sats (mat og drikke)", "31"),
    (3050, "Salg, lav sats", "33"),
    (3100, "Salg, fritatt for mva", "5"),
    (3200, "Salg utenfor mva-loven", "6"),
    (3600, "Leieinntekter", "6"),
    (3900, "Andre driftsinntekter", "3"),
    (4000, "Varekjøp, høy sats", "1"),
    (4030, "Varekjøp, middels sats", "11"),
    (4050, "Varekjøp, lav sats", "13"),
    (4300, "Varekjøp for videresalg, fritatt", "0"),
    (5000, "Lønn til ansatte", None),
    (5090, "Påløpte feriepenger", None),
    (5400, "Arbeidsgiveravgift", None),
    (6100, "Frakt og transport", "1"),
    (6300, "Husleie", None),
    (6340, "Strøm og oppvarming", "1"),
    (6360, "Renhold", "1"),
    (6540, "Småinventar", "1"),
    (6550, "Driftsmateriale og emballasje", "1"),
    (6600, "Reparasjon og vedlikehold", "1"),
    (6700, "Regnskap og revisjon", "1"),
    (6800, "Kontorrekvisita", "1"),
    (6900, "Telefon og internett", "1"),
    (7320, "Reklame og markedsføring", "1"),
    (7500, "Forsikring", None),
    (7740, "Øreavrunding", None),
    (7770, "Bank- og kortgebyrer", None),
    (7790, "Andre driftskostnader", None),
    (8050, "Renteinntekter", None),
    (8150, "Rentekostnader", None),
]


def end_of_month_before(today: date, months: int) -> date:
    """The last day of the month `months` months before today's (1: last month's end)."""
    first = today.replace(day=1)
    for _ in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    return first - timedelta(days=1)


@dataclass(frozen=True)
class CompanySpec:
    """A simulated company. Its books are relative to today, so the demo and the tests
    behave the same in any year: `locked_months` locks the books to the end of the month
    that many months back, `fiscal_years` are (years from this one, locked)."""

    name: str
    org_number: str
    locked_months: int
    address1: str
    postal_code: str
    city: str
    email: str
    fiscal_years: tuple[tuple[int, bool], ...]
    inactive_account: int
    # IsBlockedForManualBooking: the supplier ledger (2400) takes its entries from
    # supplier invoices, so the demo blocks it for vouchers, to show the check.
    blocked_accounts: tuple[int, ...] = (2400,)
    extra_accounts: tuple[tuple[int, str, str | None], ...] = ()
    left_out_accounts: tuple[int, ...] = ()
    users: tuple[str, ...] = field(default=(DEMO_USER_EMAIL,))
    # VatCodeApi.VatRate: Visma documents "the VAT rate as a percentage" (25) and has been
    # seen answering a fraction (0.25). One company answers each way, so the client is
    # tested against both.
    vat_rates_in_percent: bool = False
    # Cost centres (companysettings UsesCostCenter when there are any): (name, items as
    # (short name, name, active)). Bakeri Nord books each bakery on its own item and has
    # one item it no longer uses.
    cost_centers: tuple[tuple[str, tuple[tuple[str, str, bool], ...]], ...] = ()

    @property
    def uses_cost_center(self) -> bool:
        return bool(self.cost_centers)

    def accounts(self) -> list[tuple[int, str, str | None]]:
        chart = {n: (n, name, vat) for n, name, vat in BASE_ACCOUNTS}
        for number in self.left_out_accounts:
            chart.pop(number, None)
        for number, name, vat in self.extra_accounts:
            chart[number] = (number, name, vat)
        return [chart[n] for n in sorted(chart)]

    def vat_rate(self, rate: Decimal) -> float:
        """The VatRate the company answers for a fraction (0.25): 25 or 0.25."""
        return float(rate * 100) if self.vat_rates_in_percent else float(rate)

    def accounting_locked_to(self, today: date) -> date:
        return end_of_month_before(today, self.locked_months)

    def years(self, today: date) -> list[tuple[int, bool]]:
        """(calendar year, locked) of each fiscal year the company has on `today`."""
        return [(today.year + offset, locked) for offset, locked in self.fiscal_years]

    def first_open_day(self, today: date) -> date:
        """The first date a voucher can have: after the lock date, in an open year."""
        day = self.accounting_locked_to(today) + timedelta(days=1)
        open_years = [year for year, locked in self.years(today) if not locked]
        return max(day, date(min(open_years), 1, 1))


# The demo company posts about 30 days back from today: its books are locked only to the end
# of the month three months back (30 days back is never before the month before last), and
# last year is open. Bakeri Nord has locked its books to the end of last month and its
# whole last year; Kiosk Vest has no fiscal year two years back at all (3001 there).
COMPANIES: list[CompanySpec] = [
    CompanySpec(
        name="Fjordkafé AS",
        org_number="912345678",
        locked_months=3,
        address1="Bryggen 4",
        postal_code="5003",
        city="Bergen",
        email="post@fjordkafe.example",
        fiscal_years=((-2, True), (-1, False), (0, False), (1, False)),
        inactive_account=1950,
        users=(DEMO_USER_EMAIL, "kafe@visma.example"),
    ),
    CompanySpec(
        name="Bakeri Nord AS",
        org_number="923456783",
        locked_months=1,
        address1="Storgata 12",
        postal_code="9008",
        city="Tromsø",
        email="post@bakerinord.example",
        fiscal_years=((-2, True), (-1, True), (0, False), (1, False)),
        inactive_account=3200,
        extra_accounts=(
            (1450, "Råvarer (mel, gjær, smør)", None),
            (3010, "Salg bakervarer over disk", "31"),
            (4010, "Innkjøp råvarer", "11"),
        ),
        left_out_accounts=(3600,),
        users=(DEMO_USER_EMAIL, "bakeri@visma.example"),
        cost_centers=(
            (
                "Avdeling",
                (
                    ("TORGET", "Torget", True),
                    ("HAVNA", "Havna", True),
                    ("GAMLEBY", "Gamlebyen", False),
                ),
            ),
        ),
    ),
    CompanySpec(
        name="Kiosk Vest AS",
        org_number="934567897",
        locked_months=5,
        address1="Torget 1",
        postal_code="4006",
        city="Stavanger",
        email="post@kioskvest.example",
        fiscal_years=((-1, True), (0, False), (1, False)),
        inactive_account=7500,
        extra_accounts=(
            (3020, "Provisjon spill og tipping", "6"),
            (3060, "Salg aviser og blader", "5"),
            (4060, "Innkjøp aviser og blader", "0"),
        ),
        left_out_accounts=(1200, 5090),
        users=(DEMO_USER_EMAIL, "kiosk@visma.example"),
        vat_rates_in_percent=True,
    ),
]


def spec_of(company) -> CompanySpec:
    """The spec of a simulated company (anything with its org_number)."""
    return next(spec for spec in COMPANIES if spec.org_number == company.org_number)


# Every simulated user signs in with the demo password.
USERS: dict[str, tuple[str, str]] = {
    # email: (name, default company org number)
    DEMO_USER_EMAIL: ("Demo Demosen", "912345678"),
    "kafe@visma.example": ("Kari Kafé", "912345678"),
    "bakeri@visma.example": ("Bente Baker", "923456783"),
    "kiosk@visma.example": ("Kjell Kiosk", "934567897"),
}
