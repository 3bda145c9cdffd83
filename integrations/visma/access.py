"""What Visma's 403s mean and what the admin must do in Visma about each.

Visma answers 403 with an ErrorCode when the company or the signed-in user may not do what
was asked (https://developer.vismaonline.com/docs/error-codes). Each has one Norwegian
sentence here, shown on the integration page, in the run's summary and in the e-mail to the
admins. Also CompanyStatus from /companysettings (0 inactive, 1 active, 2 read-only), which
the connect checks before it stores anything.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

NO_ACCESS_TO_MODULE = 4002
STARTUP_GUIDE = 4003
COMPANY_NOT_ACTIVE = 4004
NOT_AUTHORISED = 4005
NO_ACCESS_TO_COMPANY = 4011
READ_ONLY_USER = 4019

ADVICE = {
    NO_ACCESS_TO_MODULE: _(
        "Visma-selskapet har ikke tilgang til API-et (integrasjonen er ikke aktivert). "
        "Aktiver Backoffice under Innstillinger > Apper og utvidelser i Visma eAccounting, "
        "eller velg en pakke med API-tilgang, og koble til på nytt."
    ),
    STARTUP_GUIDE: _(
        "Oppstartsveiviseren for selskapet er ikke fullført i Visma eAccounting. Logg inn i "
        "Visma, fullfør veiviseren, og koble til på nytt."
    ),
    COMPANY_NOT_ACTIVE: _(
        "Selskapet er ikke aktivt i Visma eAccounting (for eksempel avsluttet eller "
        "ikke betalt). Få selskapet aktivert i Visma, og koble til på nytt."
    ),
    NOT_AUTHORISED: _(
        "Visma sier at brukeren som koblet til, ikke har rettighet til dette. Gi brukeren "
        "rettigheter til bokføring under Innstillinger > Brukere i Visma, eller koble til "
        "med en bruker som har dem."
    ),
    NO_ACCESS_TO_COMPANY: _(
        "Brukeren som koblet til, har ikke (lenger) tilgang til selskapet i Visma. Gi "
        "brukeren tilgang under Innstillinger > Brukere i Visma, eller koble til på nytt med "
        "en bruker som har det."
    ),
    READ_ONLY_USER: _(
        "Brukeren som koblet til, har bare lesetilgang i Visma eAccounting og kan ikke "
        "bokføre. Gi brukeren rettigheter til bokføring under Innstillinger > Brukere i "
        "Visma, eller koble til på nytt med en annen bruker."
    ),
}
UNKNOWN = _(
    "Visma nektet tilgang (%(detail)s). Sjekk at brukeren som koblet til, har rettigheter "
    "til bokføring i selskapet og at integrasjonen er aktivert i Visma, og koble til på nytt."
)

# CompanyStatus in CompanySettingsApi.
COMPANY_INACTIVE, COMPANY_ACTIVE, COMPANY_READ_ONLY = 0, 1, 2
READ_ONLY_COMPANY = _(
    "Selskapet er skrivebeskyttet i Visma eAccounting, så ingen bilag kan bokføres. "
    "Åpne selskapet for bokføring i Visma, og koble til på nytt."
)


def advice(code: int | None, detail: str = "") -> str:
    """The sentence for a 403's ErrorCode: what is wrong and what to do in Visma."""
    known = ADVICE.get(code or 0)
    return str(known) if known is not None else str(UNKNOWN) % {"detail": detail or code}


def company_problem(company_settings: dict) -> str | None:
    """Why the company cannot take vouchers, from /companysettings (None: it can)."""
    status = company_settings.get("CompanyStatus")
    if status == COMPANY_INACTIVE:
        return advice(COMPANY_NOT_ACTIVE)
    if status == COMPANY_READ_ONLY:
        return str(READ_ONLY_COMPANY)
    return None
