"""What tests, commands and the simulator page do to the simulator.

from visma_sandbox import services
services.setup_demo()                                   # companies, users (idempotent)
client, secret = services.register_client(client_id="x", client_secret="y",
                                          redirect_uris=["http://testserver/cb/"])
services.set_fault(fail_5xx=2)                          # next 2 API requests: 500
services.set_fault(company="912345678", lose_after_store=1)
services.set_fault(fail_attachment_upload=1)            # next POST /attachments: 500
services.expire_access_tokens()                         # every access token, now
services.revoke_refresh_tokens(company="912345678")     # next refresh: invalid_grant
services.set_account("912345678", 1902, year=2027, blocked_for_manual_booking=True)
services.set_quota(5)                                   # 5 requests/min/client/endpoint
services.reset_sandbox()                                # back to a fresh demo

What a Visma user does in eAccounting's own screens, for the reconciliation's tests:
services.delete_voucher(voucher)                        # Bokføring > Bilag: delete
services.change_voucher(voucher, rows={3000: (0, "4700.00"), 1920: ("5999.60", 0)})
services.approve_draft(draft)                           # the accountant books a draft
services.delete_draft(draft)
"""

from __future__ import annotations

import secrets
from datetime import date

from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password
from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from . import chart, vouchers
from .conf import quota_per_minute_default
from .models import (
    AccessToken,
    AuthorizationCode,
    FaultSwitch,
    QuotaCounter,
    RefreshToken,
    SandboxAccount,
    SandboxAttachment,
    SandboxClient,
    SandboxCompany,
    SandboxCostCenter,
    SandboxCostCenterItem,
    SandboxFiscalYear,
    SandboxSettings,
    SandboxUser,
    SandboxVatCode,
    SandboxVoucher,
    SandboxVoucherDraft,
)

DEFAULT_CLIENT_ID = "backoffice-sandbox"
DEFAULT_REDIRECT_URIS = [
    "http://127.0.0.1:8000/oppsett/integrasjoner/visma-eaccounting/callback/",
    "http://localhost:8000/oppsett/integrasjoner/visma-eaccounting/callback/",
]

CompanyRef = SandboxCompany | str | None


# --- simulated users' passwords -------------------------------------------------------------


class _SimulatedUserHasher(PBKDF2PasswordHasher):
    """Fake people of test equipment whose password ("demo") the sign-in page shows: few
    iterations keep the tests quick. Never used for the Backoffice's own users."""

    algorithm = "sandbox_pbkdf2_sha256"
    iterations = 1000


def hash_password(password: str) -> str:
    return make_password(password, hasher=_SimulatedUserHasher())


def password_matches(password: str, encoded: str) -> bool:
    return encoded.startswith(_SimulatedUserHasher.algorithm + "$") and (
        _SimulatedUserHasher().verify(password, encoded)
    )


# --- demo data ---------------------------------------------------------------------------


@transaction.atomic
def setup_demo() -> list[SandboxCompany]:
    """Create (or bring back to their defined state) the simulated companies with their
    charts, VAT codes and fiscal years, and the simulated users. Received vouchers, clients
    and tokens are left alone. Idempotent."""
    today = timezone.localdate()  # the books are relative to today (chart.CompanySpec)
    companies = [_setup_company(spec, today) for spec in chart.COMPANIES]
    by_org = {company.org_number: company for company in companies}
    password = hash_password(chart.DEMO_USER_PASSWORD)
    for email, (name, default_org) in chart.USERS.items():
        user, _ = SandboxUser.objects.update_or_create(
            email=email,
            defaults={
                "name": name,
                "password": password,
                "default_company": by_org[default_org],
                "subject": chart.stable_id("user", "user", email),
            },
        )
        user.companies.set([company for company in companies if email in _spec(company).users])
    FaultSwitch.objects.get_or_create(scope="global")
    for company in companies:
        FaultSwitch.objects.get_or_create(scope=f"company:{company.pk}", company=company)
    SandboxSettings.objects.get_or_create(pk=1)
    return companies


def _spec(company: SandboxCompany) -> chart.CompanySpec:
    return chart.spec_of(company)


def _setup_company(spec: chart.CompanySpec, today: date) -> SandboxCompany:
    org = spec.org_number
    company, _ = SandboxCompany.objects.update_or_create(
        org_number=org,
        defaults={
            "uuid": chart.stable_id(org, "company", org),
            "name": spec.name,
            "accounting_locked_to": spec.accounting_locked_to(today),
            "company_status": 1,
            "address1": spec.address1,
            "postal_code": spec.postal_code,
            "city": spec.city,
            "email": spec.email,
        },
    )
    # In bulk: tests set the demo up for every test, so this must be quick.
    vat_codes = _sync(
        SandboxVatCode,
        {"company": company},
        "code",
        {
            code: {
                "uuid": chart.stable_id(org, "vatcode", code),
                "description": description,
                "rate": rate,
                "related_account1": (related + (None,) * 3)[0],
                "related_account2": (related + (None,) * 3)[1],
                "related_account3": (related + (None,) * 3)[2],
            }
            for code, description, rate, related in chart.VAT_CODES
        },
    )
    years = _sync(
        SandboxFiscalYear,
        {"company": company},
        "uuid",
        {
            chart.stable_id(org, "fiscalyear", year): {
                "start_date": date(year, 1, 1),
                "end_date": date(year, 12, 31),
                "is_locked": locked,
            }
            for year, locked in spec.years(today)
        },
    )
    # Visma keeps a chart per fiscal year; the demo's years start out alike.
    for year in years.values():
        _sync(
            SandboxAccount,
            {"company": company, "fiscal_year": year},
            "number",
            {
                number: {
                    "name": name,
                    "vat_code": vat_codes[vat] if vat else None,
                    "is_active": number != spec.inactive_account,
                    "blocked_for_manual_booking": number in spec.blocked_accounts,
                    "first_cost_center_mandatory": False,
                    "allow_transaction_text": True,
                }
                for number, name, vat in spec.accounts()
            },
        )
    _setup_cost_centers(spec, company)
    return company


def _setup_cost_centers(spec: chart.CompanySpec, company: SandboxCompany) -> None:
    """The company's cost centres and their items as its spec defines them (stable ids),
    each item's IsActive back to the spec's (a test may have changed it)."""
    org = spec.org_number
    centres = _sync(
        SandboxCostCenter,
        {"company": company},
        "uuid",
        {
            chart.stable_id(org, "costcenter", name): {"number": number, "name": name}
            for number, (name, _items) in enumerate(spec.cost_centers, start=1)
        },
    )
    wanted = {}
    for name, items in spec.cost_centers:
        centre = centres[chart.stable_id(org, "costcenter", name)]
        for short, item_name, active in items:
            wanted[chart.stable_id(org, "costcenteritem", short)] = (
                centre,
                item_name,
                short,
                active,
            )
    existing = {
        item.uuid: item
        for item in SandboxCostCenterItem.objects.filter(cost_center__company=company)
    }
    SandboxCostCenterItem.objects.filter(
        pk__in=[item.pk for key, item in existing.items() if key not in wanted]
    ).delete()
    for key, (centre, item_name, short, active) in wanted.items():
        item = existing.get(key) or SandboxCostCenterItem(uuid=key)
        item.cost_center, item.name, item.short_name, item.is_active = (
            centre,
            item_name,
            short,
            active,
        )
        item.save()


def _sync(model, scope: dict, key: str, wanted: dict) -> dict:
    """Make the rows of `model` within `scope` (field filters) exactly `wanted` ({key value:
    field values}); only the rows that differ are written."""
    existing = {getattr(row, key): row for row in model.objects.filter(**scope)}
    model.objects.filter(pk__in=[row.pk for k, row in existing.items() if k not in wanted]).delete()
    fields = sorted({name for values in wanted.values() for name in values})
    changed: list[Model] = []
    created: list[Model] = []
    for value, values in wanted.items():
        row = existing.get(value)
        if row is None:
            created.append(model(**scope, **{key: value}, **values))
            continue
        if any(_differs(row, name, field_value) for name, field_value in values.items()):
            for name, field_value in values.items():
                setattr(row, name, field_value)
            changed.append(row)
    model.objects.bulk_create(created)
    if changed:
        model.objects.bulk_update(changed, fields)
    return {getattr(row, key): row for row in model.objects.filter(**scope)}


def _differs(row, name: str, value) -> bool:
    field = row._meta.get_field(name)
    if field.is_relation:  # compare ids: reading the related object costs a query
        return getattr(row, field.attname) != (value.pk if value is not None else None)
    return getattr(row, name) != value


def get_company(company: CompanyRef) -> SandboxCompany:
    """A company given as itself, its org number or its name."""
    if isinstance(company, SandboxCompany):
        return company
    found = SandboxCompany.objects.filter(org_number=company).first()
    return found or SandboxCompany.objects.get(name=company)


ACCOUNT_FIELDS = (
    "name",
    "is_active",
    "blocked_for_manual_booking",
    "first_cost_center_mandatory",
    "allow_transaction_text",
)


def set_account(company: CompanyRef, number: int, *, year: int | None = None, **fields) -> int:
    """Change an account in the chart of one fiscal year (`year`: the calendar year it
    starts in) or, without `year`, in every year's, as an accountant does in Visma. Fields:
    ACCOUNT_FIELDS. Returns how many charts changed."""
    unknown = set(fields) - set(ACCOUNT_FIELDS)
    if unknown:
        raise ValueError(f"set_account takes {', '.join(ACCOUNT_FIELDS)}, not {sorted(unknown)}")
    accounts = SandboxAccount.objects.filter(company=get_company(company), number=number)
    if year is not None:
        accounts = accounts.filter(fiscal_year__start_date__year=year)
    return accounts.update(**fields)


def add_fiscal_year(company: CompanyRef, year: int, *, locked: bool = False) -> SandboxFiscalYear:
    """A fiscal year (the calendar year `year`) created as in Visma: its chart starts as a
    copy of the nearest year's."""
    company = get_company(company)
    fiscal_year = SandboxFiscalYear.objects.create(
        company=company,
        uuid=chart.stable_id(company.org_number, "fiscalyear", year),
        start_date=date(year, 1, 1),
        end_date=date(year, 12, 31),
        is_locked=locked,
    )
    others = company.fiscal_years.exclude(pk=fiscal_year.pk)
    nearest = min(others, key=lambda y: abs(y.start_date.year - year), default=None)
    if nearest is not None:
        SandboxAccount.objects.bulk_create(
            SandboxAccount(
                company=company,
                fiscal_year=fiscal_year,
                **{
                    name: getattr(account, name)
                    for name in ("number", "vat_code_id", *ACCOUNT_FIELDS)
                },
            )
            for account in nearest.accounts.all()
        )
    return fiscal_year


# --- clients -------------------------------------------------------------------------------


def register_client(
    *,
    client_id: str = DEFAULT_CLIENT_ID,
    client_secret: str | None = None,
    redirect_uris: list[str] | None = None,
    name: str = "Backoffice",
    access_token_lifetime: int | None = None,
) -> tuple[SandboxClient, str]:
    """Register (or update) a client; returns it with its secret. An existing client keeps
    its secret and redirect URIs unless new ones are given."""
    client = SandboxClient.objects.filter(client_id=client_id).first()
    if client is None:
        client = SandboxClient(client_id=client_id, client_secret="", redirect_uris="")
    if client_secret:
        client.client_secret = client_secret
    elif not client.client_secret:
        client.client_secret = secrets.token_urlsafe(24)
    if redirect_uris:
        client.redirect_uris = "\n".join(redirect_uris)
    elif not client.redirect_uris:
        client.redirect_uris = "\n".join(DEFAULT_REDIRECT_URIS)
    client.name = name
    if access_token_lifetime is not None:
        client.access_token_lifetime = access_token_lifetime or None
    client.save()
    return client, client.client_secret


# --- fault switches -------------------------------------------------------------------------


def fault_switch(company: CompanyRef = None) -> FaultSwitch:
    if company is None:
        switch, _ = FaultSwitch.objects.get_or_create(scope="global")
        return switch
    company = get_company(company)
    switch, _ = FaultSwitch.objects.get_or_create(scope=f"company:{company.pk}", company=company)
    return switch


def set_fault(
    *,
    company: CompanyRef = None,
    lose_after_store: int | None = None,
    lose_mode: str | None = None,
    fail_5xx: int | None = None,
    fail_429: int | None = None,
    retry_after_seconds: int | None = None,
    latency_ms: int | None = None,
    access_error: int | None = None,
    fail_attachment_upload: int | None = None,
    lose_attachment_after_store: int | None = None,
) -> FaultSwitch:
    """Arm a switch (global, or one company's). Only the given fields change.

    - lose_after_store=N: the next N accepted POST /vouchers (or /voucherdrafts) are
      stored, then the answer is
      lost (lose_mode "drop": the connection is closed without an answer where the server
      lets us reach the socket, else "504": 504 Gateway Timeout).
    - fail_5xx=N: the next N API requests answer 500 (ErrorCode 5000) and change nothing.
    - fail_429=N: the next N API requests answer 429 (ErrorCode 4010, Retry-After
      retry_after_seconds).
    - latency_ms: every API answer waits this long first (0 = off).
    - access_error=CODE: Visma's 403 with that ErrorCode (vouchers.ACCESS_ERRORS; 4019, a
      read-only user, only to writes), until set to 0.
    - fail_attachment_upload=N: the next N POST /attachments answer 500 (ErrorCode 5000)
      and store nothing.
    - lose_attachment_after_store=N: the next N accepted POST /attachments are stored, then
      their answer is lost (lose_mode, as for vouchers).
    """
    if access_error and access_error not in vouchers.ACCESS_ERRORS:
        raise ValueError(f"access_error must be one of {sorted(vouchers.ACCESS_ERRORS)}")
    if lose_mode is not None and lose_mode not in FaultSwitch.LoseMode.values:
        raise ValueError(f"lose_mode must be one of {FaultSwitch.LoseMode.values}")
    switch = fault_switch(company)
    changes = {
        "lose_after_store": lose_after_store,
        "lose_mode": lose_mode,
        "fail_5xx": fail_5xx,
        "fail_429": fail_429,
        "retry_after_seconds": retry_after_seconds,
        "latency_ms": latency_ms,
        "access_error": access_error,
        "fail_attachment_upload": fail_attachment_upload,
        "lose_attachment_after_store": lose_attachment_after_store,
    }
    for name, value in changes.items():
        if value is not None:
            setattr(switch, name, value)
    switch.save()
    return switch


def clear_faults() -> None:
    FaultSwitch.objects.update(
        lose_after_store=0,
        lose_mode=FaultSwitch.LoseMode.DROP,
        fail_5xx=0,
        fail_429=0,
        retry_after_seconds=1,
        latency_ms=0,
        access_error=0,
        fail_attachment_upload=0,
        lose_attachment_after_store=0,
    )


def set_cost_center_item_active(company: CompanyRef, name: str, active: bool) -> None:
    """Deactivate (or activate) a cost centre item of a company, as its accountant would."""
    SandboxCostCenterItem.objects.filter(
        cost_center__company=get_company(company), name=name
    ).update(is_active=active)


def set_accounting_locked_to(company: CompanyRef, day: date) -> None:
    """Lock the company's books to `day` (AccountingLockedTo), as its accountant would."""
    SandboxCompany.objects.filter(pk=get_company(company).pk).update(accounting_locked_to=day)


def set_company_status(company: CompanyRef, status: int) -> None:
    """CompanySettingsApi.CompanyStatus of a company: 0 inactive, 1 active, 2 read-only."""
    SandboxCompany.objects.filter(pk=get_company(company).pk).update(company_status=status)


def expire_access_tokens(*, company: CompanyRef = None) -> int:
    """Every (or one company's) access token expires now; the client must refresh."""
    tokens = AccessToken.objects.filter(expires_at__gt=timezone.now())
    if company is not None:
        tokens = tokens.filter(company=get_company(company))
    return tokens.update(expires_at=timezone.now())


def revoke_refresh_tokens(*, company: CompanyRef = None) -> int:
    """Every live refresh token (of one company) is revoked, as when the user changes the
    password or removes the integration in Visma: the next refresh gets invalid_grant."""
    tokens = RefreshToken.objects.filter(used_at__isnull=True, revoked_at__isnull=True)
    if company is not None:
        tokens = tokens.filter(company=get_company(company))
    return tokens.update(revoked_at=timezone.now())


# --- quota ----------------------------------------------------------------------------------


def set_quota(per_minute: int | None) -> None:
    """Requests per minute per client and endpoint; None goes back to the configured
    default (VISMA_SANDBOX_QUOTA_PER_MINUTE, 600). Counting starts afresh."""
    SandboxSettings.objects.update_or_create(pk=1, defaults={"quota_per_minute": per_minute})
    QuotaCounter.objects.all().delete()


def quota_per_minute() -> int:
    row = SandboxSettings.objects.filter(pk=1).first()
    if row and row.quota_per_minute:
        return row.quota_per_minute
    return quota_per_minute_default()


# --- reset ----------------------------------------------------------------------------------


@transaction.atomic
def reset_sandbox(*, keep_clients: bool = True) -> None:
    """Forget every voucher, code, token, quota count and fault, and restore the demo
    companies. Registered clients stay unless keep_clients=False."""
    SandboxVoucher.objects.all().delete()
    SandboxAttachment.objects.all().delete()
    SandboxVoucherDraft.objects.all().delete()
    SandboxCompany.objects.update(last_voucher_numbers={})
    AuthorizationCode.objects.all().delete()
    AccessToken.objects.all().delete()
    RefreshToken.objects.all().delete()
    QuotaCounter.objects.all().delete()
    FaultSwitch.objects.all().delete()
    SandboxSettings.objects.all().delete()
    if not keep_clients:
        SandboxClient.objects.all().delete()
    setup_demo()


# --- what a Visma user does in eAccounting's screens -----------------------------------------


def with_reference(reference: str, *, company: CompanyRef = None) -> SandboxVoucher:
    """The voucher whose text carries "[reference]" (e.g. "BO-17")."""
    found = SandboxVoucher.objects.filter(voucher_text__contains=f"[{reference}]")
    if company is not None:
        found = found.filter(company=get_company(company))
    return found.get()


def draft_with_reference(reference: str, *, company: CompanyRef = None) -> SandboxVoucherDraft:
    found = SandboxVoucherDraft.objects.filter(voucher_text__contains=f"[{reference}]")
    if company is not None:
        found = found.filter(company=get_company(company))
    return found.get()


def delete_voucher(voucher: SandboxVoucher | str) -> None:
    """A user deletes the voucher in Visma (given itself or its Id): GET no longer has it."""
    if isinstance(voucher, str):
        voucher = SandboxVoucher.objects.get(uuid=voucher)
    voucher.delete()


def change_voucher(
    voucher: SandboxVoucher,
    *,
    rows: dict[int, tuple] | None = None,
    voucher_date: date | None = None,
) -> SandboxVoucher:
    """A user changes the voucher in Visma: `rows` gives accounts new (debit, credit)
    amounts (on the account's first row; a new row if it has none; (0, 0) removes its
    rows), `voucher_date` a new date. Visma saves only a balanced voucher (ValueError)."""
    from decimal import Decimal

    with transaction.atomic():
        for account, (debit, credit) in (rows or {}).items():
            debit, credit = vouchers.q2(Decimal(str(debit))), vouchers.q2(Decimal(str(credit)))
            existing = list(voucher.rows.filter(account_number=account).order_by("position"))
            if not debit and not credit:
                voucher.rows.filter(account_number=account).delete()
                continue
            if existing:
                first = existing[0]
                first.debit, first.credit = debit, credit
                first.save(update_fields=["debit", "credit"])
                continue
            # The account in the chart of the voucher's own fiscal year.
            year = vouchers.fiscal_year_of(voucher.company, voucher.voucher_date)
            known = SandboxAccount.objects.get(fiscal_year=year, number=account)
            voucher.rows.create(
                position=voucher.rows.count(),
                account_number=account,
                account_name=known.name,
                debit=debit,
                credit=credit,
                transaction_text=None,
            )
        if voucher_date is not None:
            voucher.voucher_date = voucher_date
        voucher.modified_utc = timezone.now()
        voucher.save(update_fields=["voucher_date", "modified_utc"])
        debit_total = sum((row.debit for row in voucher.rows.all()), start=vouchers.ZERO)
        credit_total = sum((row.credit for row in voucher.rows.all()), start=vouchers.ZERO)
        if debit_total != credit_total:
            raise ValueError(f"not balanced: debit {debit_total}, credit {credit_total}")
    return voucher


def approve_draft(draft: SandboxVoucherDraft | str) -> SandboxVoucher:
    """The accountant books the draft (POST /voucherdrafts/{id}/convert does the same)."""
    from . import drafts

    if isinstance(draft, str):
        draft = SandboxVoucherDraft.objects.get(uuid=draft)
    return drafts.convert_draft(draft)


def delete_draft(draft: SandboxVoucherDraft | str) -> None:
    if isinstance(draft, str):
        draft = SandboxVoucherDraft.objects.get(uuid=draft)
    draft.delete()
