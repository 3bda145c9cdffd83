"""POST /vouchers as Visma checks it, and the API's JSON shapes of the simulated books.

Checks, in this order (the first failing kind answers; within a kind every problem is
listed): the body against Visma's VoucherApi schema (2000), a voucher date and rows (2000),
each row one-sided (2000), debit equals credit to the øre (2000), a fiscal year holds the
date (3001), that year is open and the date after the company's AccountingLockedTo (4026:
Visma documents no code of its own for a locked year), every account exists and is active
in the chart of that fiscal year (3002), the accounts' rules for manual vouchers
(IsBlockedForManualBooking, IsFirstCostCenterMandatory, AllowTransactionText: 2000), every
VatCodeId is one of the company's VAT codes (2000), every CostCenterItemId1 one of the
company's cost centre items and active (2000), no project (none is simulated), and every
attachment one of the company's that is not linked yet (2000)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Max

from integrations.visma.voucher_schema import validate_voucher_payload

from . import chart
from .models import (
    SandboxAccount,
    SandboxAttachment,
    SandboxClient,
    SandboxCompany,
    SandboxCostCenter,
    SandboxCostCenterItem,
    SandboxFiscalYear,
    SandboxVatCode,
    SandboxVoucher,
    SandboxVoucherRow,
)

ZERO = Decimal("0.00")
CENT = Decimal("0.01")

VALIDATION = 2000
# Visma documents no code of its own for a row its account's rules refuse (blocked for
# manual booking, a mandatory first cost centre, no transaction text allowed); they are
# rules of the data model, so they answer DataModelValidationError (2000) with the row's
# field in Errors, as Visma answers every other rule a row breaks.
ACCOUNT_RULE = VALIDATION
FISCAL_YEAR_MISSING = 3001
ACCOUNT_NOT_FOUND = 3002
MISSING_SCOPE = 4006
TOO_MANY_REQUESTS = 4010
LOCKED_PERIOD = 4026  # https://developer.vismaonline.com/docs/error-codes
NOT_AUTHORISED = 4005
# Visma's answers to a company or user that may not do what was asked (HTTP 403).
ACCESS_ERRORS = {
    4002: "No access to module: api_standard",
    4003: "The startup guide has not been completed for this company.",
    4004: "The company is not active.",
    4005: "AuthorizationException - The user is not authorized for this action.",
    4011: "The user does not have access to this company.",
    4019: "The user has read-only access.",
}
SERVER_ERROR = 5000


class VismaError(Exception):
    """An answer in Visma's error form (CommonExtendedBadRequest):
    {"ErrorCode", "DeveloperErrorMessage", "ErrorId", "Errors": [{Field, ErrorCode, Message,
    Key}] or null}."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        status: int = 400,
        errors: Sequence[tuple[str | None, str]] | None = None,
    ):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.errors = errors or []

    def as_dict(self) -> dict:
        return {
            "ErrorCode": self.code,
            "DeveloperErrorMessage": self.message,
            "ErrorId": str(uuid.uuid4()),
            "Errors": [
                {"Field": field, "ErrorCode": str(self.code), "Message": message, "Key": None}
                for field, message in self.errors
            ]
            or None,
        }


def q2(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _date_time(value: date) -> str:
    return f"{value.isoformat()}T00:00:00"


def _utc(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _flag(query, name: str, default: bool) -> bool:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise VismaError(VALIDATION, f"The value '{raw}' is not valid for {name}.")


def _split(error: str) -> tuple[str, str]:
    """ "$.Rows[0].DebitAmount: message" -> ("Rows[0].DebitAmount", "message")."""
    path, _, message = error.partition(": ")
    return (path[2:] if path.startswith("$.") else path), message


def _amount(row: dict, name: str) -> Decimal:
    value = row.get(name)
    return ZERO if value is None else q2(Decimal(str(value)))


def fiscal_year_of(company: SandboxCompany, day: date) -> SandboxFiscalYear | None:
    return SandboxFiscalYear.objects.filter(
        company=company, start_date__lte=day, end_date__gte=day
    ).first()


def existing_accounts(chart, rows: list[dict]) -> dict[int, SandboxAccount]:
    """The rows' accounts in `chart` (a queryset of one fiscal year's SandboxAccount) by
    number; every row's account must be there and active, else 3002 naming each row."""
    accounts = {
        account.number: account
        for account in chart.filter(number__in=[row["AccountNumber"] for row in rows])
    }
    missing = []
    for index, row in enumerate(rows):
        account = accounts.get(row["AccountNumber"])
        if account is None:
            missing.append(
                (f"Rows[{index}].AccountNumber", f"Account {row['AccountNumber']} does not exist.")
            )
        elif not account.is_active:
            missing.append(
                (f"Rows[{index}].AccountNumber", f"Account {account.number} is inactive.")
            )
    if missing:
        raise VismaError(
            ACCOUNT_NOT_FOUND, "; ".join(message for _, message in missing), errors=missing
        )
    return accounts


def check_voucher(company: SandboxCompany, payload: object) -> tuple[date, list[dict]]:
    """Refuse what Visma refuses (VismaError); else the date and rows with their amounts as
    Decimal, their account and VAT code objects."""
    if not isinstance(payload, dict):
        raise VismaError(VALIDATION, "The request body must be a voucher (a JSON object).")
    schema_errors = validate_voucher_payload(payload)
    if schema_errors:
        raise VismaError(
            VALIDATION,
            "The voucher is not valid: " + "; ".join(schema_errors),
            errors=[_split(error) for error in schema_errors],
        )
    if not payload.get("VoucherDate"):
        raise VismaError(
            VALIDATION, "VoucherDate is required.", errors=[("VoucherDate", "Required")]
        )
    voucher_date = date.fromisoformat(payload["VoucherDate"][:10])
    rows = payload["Rows"]
    if not rows:
        raise VismaError(VALIDATION, "A voucher needs rows.", errors=[("Rows", "Required")])

    problems = []
    debit_total = credit_total = ZERO
    for index, row in enumerate(rows):
        debit, credit = _amount(row, "DebitAmount"), _amount(row, "CreditAmount")
        if debit and credit:
            problems.append((f"Rows[{index}]", "A row has either a debit or a credit amount."))
        if not debit and not credit:
            problems.append((f"Rows[{index}]", "A row needs a debit or a credit amount."))
        debit_total += debit
        credit_total += credit
    if problems:
        raise VismaError(VALIDATION, "; ".join(message for _, message in problems), errors=problems)
    if debit_total != credit_total:
        raise VismaError(
            VALIDATION,
            f"The voucher is not balanced: debit {debit_total} and credit {credit_total} "
            f"differ by {debit_total - credit_total}.",
            errors=[("Rows", "Debit and credit must be equal.")],
        )

    fiscal_year = fiscal_year_of(company, voucher_date)
    if fiscal_year is None:
        raise VismaError(
            FISCAL_YEAR_MISSING,
            f"There is no fiscal year for the voucher date {voucher_date}.",
            errors=[("VoucherDate", "No fiscal year")],
        )
    if fiscal_year.is_locked:
        raise VismaError(
            LOCKED_PERIOD,
            f"The fiscal year {fiscal_year.start_date} – {fiscal_year.end_date} is locked.",
            errors=[("VoucherDate", "Fiscal year is locked")],
        )
    if voucher_date <= company.accounting_locked_to:
        raise VismaError(
            LOCKED_PERIOD,
            f"The voucher date {voucher_date} is in a locked period: accounting is locked "
            f"to {company.accounting_locked_to}.",
            errors=[("VoucherDate", "Locked period")],
        )

    # The chart of the voucher date's fiscal year, not today's: a December settlement posted
    # in January meets December's chart.
    accounts = existing_accounts(
        SandboxAccount.objects.filter(fiscal_year=fiscal_year).select_related("vat_code"), rows
    )
    refused = account_rule_problems(rows, accounts)
    if refused:
        raise VismaError(ACCOUNT_RULE, "; ".join(message for _, message in refused), errors=refused)

    vat_codes, cost_items, unknown = row_reference_problems(company, rows)
    wanted = (payload.get("Attachments") or {}).get("AttachmentIds") or []
    # The company's own attachments that no document has yet (attachments.py).
    free = {
        str(attachment.uuid)
        for attachment in SandboxAttachment.objects.filter(
            company=company, voucher__isnull=True, uuid__in=[value.lower() for value in wanted]
        )
    }
    for attachment_id in wanted:
        if attachment_id.lower() not in free:
            unknown.append(
                (
                    "Attachments.AttachmentIds",
                    f"Attachment {attachment_id} was not found or is already linked.",
                )
            )
    if unknown:
        raise VismaError(VALIDATION, "; ".join(message for _, message in unknown), errors=unknown)

    checked = []
    for row in rows:
        checked.append(
            {
                "account": accounts[row["AccountNumber"]],
                "debit": _amount(row, "DebitAmount"),
                "credit": _amount(row, "CreditAmount"),
                "text": row.get("TransactionText"),
                "vat_code": vat_codes.get((row.get("VatCodeId") or "").lower()),
                "cost_center_item1": cost_items.get((row.get("CostCenterItemId1") or "").lower()),
            }
        )
    return voucher_date, checked


def row_reference_problems(company: SandboxCompany, rows: list[dict]) -> tuple[dict, dict, list]:
    """The company's VAT codes and cost centre items the rows name (by lowercased id), and
    (field, message) for each row's VatCodeId or CostCenterItemId1 the company does not
    have (or has inactive), and for any CostCenterItemId2/3 or ProjectId (none simulated)."""
    vat_codes = {
        str(vat.uuid): vat
        for vat in SandboxVatCode.objects.filter(
            company=company,
            uuid__in=[row["VatCodeId"].lower() for row in rows if row.get("VatCodeId")],
        )
    }
    unknown = []
    for index, row in enumerate(rows):
        if row.get("VatCodeId") and row["VatCodeId"].lower() not in vat_codes:
            unknown.append(
                (f"Rows[{index}].VatCodeId", f"VatCodeId {row['VatCodeId']} was not found.")
            )
        for name in ("CostCenterItemId2", "CostCenterItemId3", "ProjectId"):
            if row.get(name):
                unknown.append((f"Rows[{index}].{name}", f"{name} {row[name]} was not found."))
    cost_items, problems = cost_center_problems(company, rows)
    return vat_codes, cost_items, unknown + problems


def cost_center_problems(company: SandboxCompany, rows: list[dict]) -> tuple[dict, list]:
    """The company's cost centre items the rows name (by lowercased id), and (field,
    message) for each row whose CostCenterItemId1 is unknown or inactive."""
    cost_items = _cost_center_items(company, rows)
    problems = []
    for index, row in enumerate(rows):
        wanted = (row.get("CostCenterItemId1") or "").lower()
        if not wanted:
            continue
        item = cost_items.get(wanted)
        where = f"Rows[{index}].CostCenterItemId1"
        if item is None:
            problems.append((where, f"CostCenterItemId1 {row['CostCenterItemId1']} was not found."))
        elif not (item.is_active and item.cost_center.is_active):
            problems.append(
                (where, f"The cost center item {item.name} ({item.short_name}) is not active.")
            )
    return cost_items, problems


def _cost_center_items(company: SandboxCompany, rows: list[dict]) -> dict:
    """The company's cost centre items the rows name (only a company that uses cost
    centres has any: another's CostCenterItemId1 is not found)."""
    wanted = [
        row["CostCenterItemId1"].lower()
        for row in rows
        if isinstance(row.get("CostCenterItemId1"), str) and row["CostCenterItemId1"]
    ]
    if not wanted:
        return {}
    return {
        str(item.uuid): item
        for item in SandboxCostCenterItem.objects.filter(
            cost_center__company=company, uuid__in=wanted
        ).select_related("cost_center")
    }


def account_rule_problems(rows: list[dict], accounts: dict[int, SandboxAccount]) -> list:
    """(field, message) for every row its account's AccountApi rules refuse."""
    problems = []
    for index, row in enumerate(rows):
        account = accounts[row["AccountNumber"]]
        if account.blocked_for_manual_booking:
            problems.append(
                (
                    f"Rows[{index}].AccountNumber",
                    f"Account {account.number} is blocked for manual bookkeeping.",
                )
            )
        if account.first_cost_center_mandatory and not row.get("CostCenterItemId1"):
            problems.append(
                (
                    f"Rows[{index}].CostCenterItemId1",
                    f"Account {account.number} requires a first cost center.",
                )
            )
        if not account.allow_transaction_text and row.get("TransactionText"):
            problems.append(
                (
                    f"Rows[{index}].TransactionText",
                    f"Account {account.number} does not allow a transaction text.",
                )
            )
    return problems


def _default_vat_codes(rows: list[dict]) -> list[dict]:
    """useDefaultVatCodes=true (Visma's default): each row takes its account's VAT code."""
    return [{**row, "vat_code": row["account"].vat_code} for row in rows]


def _automatic_vat(company: SandboxCompany, rows: list[dict]) -> list[dict]:
    """useAutomaticVatCalculation=true: a row with a VAT code is a gross amount; Visma keeps
    the net on the row and adds the VAT on the code's first related account."""
    result = []
    for row in rows:
        vat = row["vat_code"]
        result.append(row)
        if vat is None or not vat.rate or not vat.related_account1:
            continue
        side = "debit" if row["debit"] else "credit"
        gross = row[side]
        vat_amount = q2(gross * vat.rate / (1 + vat.rate))
        row[side] = gross - vat_amount
        vat_account = SandboxAccount.objects.filter(
            fiscal_year_id=row["account"].fiscal_year_id, number=vat.related_account1
        ).first()
        if vat_account is None or not vat_amount:
            row[side] = gross
            continue
        result.append(
            {
                "account": vat_account,
                "debit": vat_amount if side == "debit" else ZERO,
                "credit": vat_amount if side == "credit" else ZERO,
                "text": row["text"],
                "vat_code": None,
                "cost_center_item1": row.get("cost_center_item1"),
            }
        )
    return result


def create_voucher(
    *, company: SandboxCompany, client: SandboxClient | None, payload: object, query
) -> SandboxVoucher:
    flags = {
        "useAutomaticVatCalculation": _flag(query, "useAutomaticVatCalculation", False),
        "useDefaultVatCodes": _flag(query, "useDefaultVatCodes", True),
        "useDefaultVoucherSeries": _flag(query, "useDefaultVoucherSeries", True),
    }
    voucher_date, rows = check_voucher(company, payload)
    assert isinstance(payload, dict)  # check_voucher refuses anything else
    series = "A"
    if not flags["useDefaultVoucherSeries"]:
        series = (payload.get("NumberSeries") or "").strip()
        if not series or len(series) > 10:
            raise VismaError(
                VALIDATION,
                "NumberSeries is required when useDefaultVoucherSeries=false.",
                errors=[("NumberSeries", "Required")],
            )
    if flags["useDefaultVatCodes"]:
        rows = _default_vat_codes(rows)
    if flags["useAutomaticVatCalculation"]:
        rows = _automatic_vat(company, rows)
    with transaction.atomic():
        # One numbering per company and series, also with several web workers; a deleted
        # voucher's number is not given again.
        locked = SandboxCompany.objects.select_for_update().get(pk=company.pk)
        last = SandboxVoucher.objects.filter(company=company, series=series).aggregate(
            last=Max("number")
        )["last"]
        numbers = dict(locked.last_voucher_numbers or {})
        number = max(last or 0, int(numbers.get(series, 0))) + 1
        numbers[series] = number
        SandboxCompany.objects.filter(pk=company.pk).update(last_voucher_numbers=numbers)
        voucher = SandboxVoucher.objects.create(
            company=company,
            client=client,
            series=series,
            number=number,
            voucher_date=voucher_date,
            voucher_text=payload["VoucherText"],
            flags=flags,
        )
        wanted = (payload.get("Attachments") or {}).get("AttachmentIds") or []
        if wanted:
            SandboxAttachment.objects.filter(
                company=company, voucher__isnull=True, uuid__in=[v.lower() for v in wanted]
            ).update(voucher=voucher, linked_utc=voucher.created_utc)
        SandboxVoucherRow.objects.bulk_create(
            SandboxVoucherRow(
                voucher=voucher,
                position=position,
                account_number=row["account"].number,
                account_name=row["account"].name,
                debit=row["debit"],
                credit=row["credit"],
                transaction_text=row["text"],
                vat_code=row["vat_code"],
                cost_center_item1=row.get("cost_center_item1"),
            )
            for position, row in enumerate(rows)
        )
    return voucher


# --- the API's JSON shapes ----------------------------------------------------------------


def _number(value: Decimal) -> float:
    # JSON numbers; two decimals survive the float (read them with parse_float=Decimal).
    return float(value)


def _percent(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f}%"


def serialize_voucher(voucher: SandboxVoucher) -> dict:
    return {
        "Id": str(voucher.uuid),
        "VoucherDate": _date_time(voucher.voucher_date),
        "VoucherText": voucher.voucher_text,
        "Rows": [
            {
                "AccountNumber": row.account_number,
                "AccountDescription": row.account_name,
                "DebitAmount": _number(row.debit),
                "CreditAmount": _number(row.credit),
                "TransactionText": row.transaction_text,
                "CostCenterItemId1": (
                    str(row.cost_center_item1.uuid) if row.cost_center_item1 else None
                ),
                "CostCenterItemId2": None,
                "CostCenterItemId3": None,
                "VatCodeId": str(row.vat_code.uuid) if row.vat_code else None,
                "VatCodeAndPercent": (
                    f"{row.vat_code.code} ({_percent(row.vat_code.rate)})" if row.vat_code else None
                ),
                "VatAmount": None,
                "Quantity": None,
                "Weight": None,
                "DeliveryDate": None,
                "HarvestYear": None,
                "ProjectId": None,
            }
            for row in voucher.rows.all()
        ],
        "NumberAndNumberSeries": f"{voucher.series}{voucher.number}",
        "NumberSeries": voucher.series,
        "ImportedVoucherNumber": None,
        "Attachments": {
            "DocumentId": str(voucher.uuid),
            "DocumentType": 3,
            "AttachmentIds": [str(attachment.uuid) for attachment in voucher.attachments.all()],
        },
        "ModifiedUtc": _utc(voucher.modified_utc or voucher.created_utc),
        "VoucherType": voucher.voucher_type,
        "SourceId": None,
        "CreatedUtc": _utc(voucher.created_utc),
    }


def current_fiscal_year(company: SandboxCompany, today: date) -> SandboxFiscalYear | None:
    years = list(company.fiscal_years.all())
    for year in years:
        if year.start_date <= today <= year.end_date:
            return year
    return years[-1] if years else None


def serialize_account(account: SandboxAccount, fiscal_year: SandboxFiscalYear | None) -> dict:
    return {
        "Name": account.name,
        "Number": str(account.number),
        "VatCodeId": str(account.vat_code.uuid) if account.vat_code else None,
        "VatCodeDescription": account.vat_code.description if account.vat_code else None,
        "FiscalYearId": str(fiscal_year.uuid) if fiscal_year else None,
        "ReferenceCode": None,
        "Type": 0,
        "TypeDescription": None,
        "ModifiedUtc": "2024-01-01T00:00:00Z",
        "CreatedUtc": "2024-01-01T00:00:00Z",
        "IsActive": account.is_active,
        "AllowTransactionText": account.allow_transaction_text,
        "IsFirstCostCenterMandatory": account.first_cost_center_mandatory,
        "IsProjectAllowed": False,
        # A first cost centre can only be mandatory where cost centres are allowed.
        "IsCostCenterAllowed": account.first_cost_center_mandatory,
        "IsBlockedForManualBooking": account.blocked_for_manual_booking,
        "Description": None,
    }


def serialize_vat_code(vat: SandboxVatCode, company: SandboxCompany) -> dict:
    return {
        "Id": str(vat.uuid),
        "Code": vat.code,
        "Description": vat.description,
        # A fraction (0.25) or a percentage (25), by company (chart.CompanySpec).
        "VatRate": chart.spec_of(company).vat_rate(vat.rate),
        "OssCodeType": 0,
        "RelatedAccounts": {
            "AccountNumber1": vat.related_account1,
            "AccountNumber2": vat.related_account2,
            "AccountNumber3": vat.related_account3,
        },
    }


def serialize_cost_center(centre: SandboxCostCenter) -> dict:
    """CostCenterApi with its Items (CostCenterItemApi)."""
    return {
        "Name": centre.name,
        "Number": centre.number,
        "IsActive": centre.is_active,
        "Items": [
            {
                "CostCenterId": str(centre.uuid),
                "Id": str(item.uuid),
                "Name": item.name,
                "ShortName": item.short_name,
                "IsActive": item.is_active,
                "CreatedUtc": _utc(item.created_utc),
            }
            for item in centre.items.all()
        ],
        "Id": str(centre.uuid),
    }


def serialize_fiscal_year(year: SandboxFiscalYear) -> dict:
    return {
        "Id": str(year.uuid),
        "StartDate": _date_time(year.start_date),
        "EndDate": _date_time(year.end_date),
        "IsLockedForAccounting": year.is_locked,
        "BookkeepingMethod": 0,
    }


def serialize_company_settings(company: SandboxCompany) -> dict:
    return {
        "Name": company.name,
        "Email": company.email,
        "Phone": company.phone or None,
        "MobilePhone": None,
        "Address1": company.address1,
        "Address2": None,
        "CountryCode": company.country_code,
        "PostalCode": company.postal_code,
        "City": company.city,
        "Website": None,
        "OurReference": None,
        "CurrencyCode": company.currency_code,
        "CorporateIdentityNumber": company.org_number,
        "VatCode": f"NO{company.org_number}MVA",
        "AccountNumberDigits": 4,
        "AccountingLockedTo": _date_time(company.accounting_locked_to),
        "AccountingLockInterval": 1,
        "TypeOfBusiness": 1,
        "VatPeriod": 6,
        "CompanyStatus": company.company_status,
        "ActivatedModules": ["api_standard", "bookkeeping"],
        "CompanyIdentifier": str(company.uuid),
        "UseAutomaticVatCalculation": False,
        "UsesCostCenter": chart.spec_of(company).uses_cost_center,
        "UsesProject": False,
        "UsesTransactionText": True,
        "DomesticCurrencyRounding": 1,
    }
