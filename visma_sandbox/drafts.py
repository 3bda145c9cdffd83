"""Voucher drafts as Visma keeps them (VoucherDraftApi, /v2/voucherdrafts): created by the
API, converted into a voucher by the accountant (POST /voucherdrafts/{id}/convert, or the
simulator page's "Approve" button) or deleted.

Visma's description says what a draft is for ("can be saved for later completion or
converted to a voucher") but not what it checks; modelled here:

- POST and PUT: the body against Visma's VoucherDraftApi schema (2000: e.g. a row text
  over 50 characters, a field VoucherDraftApi does not have), a voucher date (2000), every
  account existing and active (3002) and every VatCodeId the company's (2000). A draft may
  be unfinished: it need not balance, nor its date be open.
- convert: everything POST /vouchers checks (vouchers.check_voucher: balance, fiscal year,
  lock date, …), on the draft's date, text and rows; then "the voucher draft will be
  removed and a new voucher will be created with the same transaction data". The voucher
  takes the draft's amounts and VAT codes as they are (as useDefaultVatCodes=false and
  useAutomaticVatCalculation=false on POST /vouchers).
- amountIncludesVat=true ("the amounts are used as including VAT when draft is created"):
  a row with a VAT code is taken as gross and split into net and VAT on the code's first
  related account when the draft is created (as vouchers' automatic VAT calculation).
"""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from integrations.visma.voucher_schema import validate_voucher_draft_payload

from . import vouchers
from .models import (
    SandboxAccount,
    SandboxClient,
    SandboxCompany,
    SandboxVoucher,
    SandboxVoucherDraft,
    SandboxVoucherDraftRow,
)
from .vouchers import VALIDATION, VismaError


def check_draft(company: SandboxCompany, payload: object) -> tuple[date, list[dict]]:
    if not isinstance(payload, dict):
        raise VismaError(VALIDATION, "The request body must be a voucher draft (a JSON object).")
    schema_errors = validate_voucher_draft_payload(payload)
    if schema_errors:
        raise VismaError(
            VALIDATION,
            "The voucher draft is not valid: " + "; ".join(schema_errors),
            errors=[vouchers._split(error) for error in schema_errors],
        )
    if not payload.get("VoucherDate"):
        raise VismaError(
            VALIDATION, "VoucherDate is required.", errors=[("VoucherDate", "Required")]
        )
    voucher_date = date.fromisoformat(payload["VoucherDate"][:10])
    rows = payload.get("Rows") or []
    # The chart of the draft date's fiscal year (or, without one, today's): Visma keeps a
    # chart per fiscal year.
    year = vouchers.fiscal_year_of(company, voucher_date) or vouchers.current_fiscal_year(
        company, timezone.localdate()
    )
    accounts = vouchers.existing_accounts(SandboxAccount.objects.filter(fiscal_year=year), rows)
    # A store's cost centre item travels on the draft as on a voucher (costcentres.py).
    vat_codes, cost_items, unknown = vouchers.row_reference_problems(company, rows)
    if unknown:
        raise VismaError(VALIDATION, "; ".join(message for _, message in unknown), errors=unknown)
    return voucher_date, [
        {
            "account": accounts[row["AccountNumber"]],
            "debit": vouchers._amount(row, "DebitAmount"),
            "credit": vouchers._amount(row, "CreditAmount"),
            "text": row.get("TransactionText"),
            "vat_code": vat_codes.get((row.get("VatCodeId") or "").lower()),
            "cost_center_item1": cost_items.get((row.get("CostCenterItemId1") or "").lower()),
        }
        for row in rows
    ]


def _store_rows(draft: SandboxVoucherDraft, rows: list[dict]) -> None:
    SandboxVoucherDraftRow.objects.bulk_create(
        SandboxVoucherDraftRow(
            draft=draft,
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


def create_draft(
    *, company: SandboxCompany, client: SandboxClient | None, payload: object, query
) -> SandboxVoucherDraft:
    includes_vat = vouchers._flag(query, "amountIncludesVat", False)
    voucher_date, rows = check_draft(company, payload)
    assert isinstance(payload, dict)  # check_draft refused any other body
    if includes_vat:
        rows = vouchers._automatic_vat(company, rows)
    with transaction.atomic():
        draft = SandboxVoucherDraft.objects.create(
            company=company,
            client=client,
            voucher_date=voucher_date,
            voucher_text=payload.get("VoucherText"),
            number_series=payload.get("NumberSeries"),
            flags={"amountIncludesVat": includes_vat},
        )
        _store_rows(draft, rows)
    return draft


def replace_draft(draft: SandboxVoucherDraft, payload: object, query) -> SandboxVoucherDraft:
    """PUT /voucherdrafts/{id}: the draft's data replaced by the body's."""
    includes_vat = vouchers._flag(query, "amountIncludesVat", False)
    voucher_date, rows = check_draft(draft.company, payload)
    assert isinstance(payload, dict)  # check_draft refused any other body
    if includes_vat:
        rows = vouchers._automatic_vat(draft.company, rows)
    with transaction.atomic():
        draft.voucher_date = voucher_date
        draft.voucher_text = payload.get("VoucherText")
        draft.number_series = payload.get("NumberSeries")
        draft.modified_utc = timezone.now()
        draft.save()
        draft.rows.all().delete()
        _store_rows(draft, rows)
    return draft


def _as_voucher_payload(draft: SandboxVoucherDraft) -> dict:
    rows = []
    for row in draft.rows.select_related("vat_code", "cost_center_item1"):
        item = {
            "AccountNumber": row.account_number,
            "DebitAmount": row.debit,
            "CreditAmount": row.credit,
            "TransactionText": row.transaction_text,
        }
        if row.vat_code is not None:
            item["VatCodeId"] = str(row.vat_code.uuid)
        if row.cost_center_item1 is not None:
            item["CostCenterItemId1"] = str(row.cost_center_item1.uuid)
        rows.append(item)
    return {
        "VoucherDate": draft.voucher_date.isoformat(),
        "VoucherText": draft.voucher_text or "",
        "Rows": rows,
    }


def convert_draft(draft: SandboxVoucherDraft) -> SandboxVoucher:
    """The accountant approves the draft: a voucher with its data; the draft is removed."""
    payload = _as_voucher_payload(draft)
    query = {"useDefaultVatCodes": "false", "useAutomaticVatCalculation": "false"}
    with transaction.atomic():
        if draft.number_series:
            payload["NumberSeries"] = draft.number_series
            query["useDefaultVoucherSeries"] = "false"
        voucher = vouchers.create_voucher(
            company=draft.company, client=draft.client, payload=payload, query=query
        )
        draft.delete()
    return voucher


def serialize_draft(draft: SandboxVoucherDraft) -> dict:
    return {
        "Id": str(draft.uuid),
        "VoucherDate": vouchers._date_time(draft.voucher_date),
        "VoucherText": draft.voucher_text,
        "NumberSeries": draft.number_series,
        "CreatedUtc": vouchers._utc(draft.created_utc),
        "ModifiedUtc": vouchers._utc(draft.modified_utc or draft.created_utc),
        "Rows": [
            {
                "AccountNumber": row.account_number,
                "DebitAmount": vouchers._number(row.debit),
                "CreditAmount": vouchers._number(row.credit),
                "VatCodeId": str(row.vat_code.uuid) if row.vat_code else None,
                "CostCenterItemId1": (
                    str(row.cost_center_item1.uuid) if row.cost_center_item1 else None
                ),
                "CostCenterItemId2": None,
                "CostCenterItemId3": None,
                "TransactionText": row.transaction_text,
                "ProjectId": None,
                "Quantity": None,
                "Weight": None,
                "DeliveryDate": None,
                "HarvestYear": None,
            }
            for row in draft.rows.all()
        ],
    }
