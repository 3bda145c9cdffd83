"""Pydantic's validation errors in our words: the path syntax the API has always answered
with ("sales[1].count", "cash_count.counted") and ONE table from pydantic's error type to
a Norwegian message (English through Django's i18n).

Pydantic names every bad field in one go; the models (settlements.parsing.SettlementIn,
accounting.mapping.MappingIn) raise `PydanticCustomError` with the types below for what
pydantic's own constraints cannot say (an amount exact to the øre, a date not ahead).
An entry "Model.type" is that model's own text for one of pydantic's types (the
kontooppsett says "Ukjent felt", as it always has).
https://docs.pydantic.dev/latest/errors/validation_errors/
"""

from __future__ import annotations

import typing
from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

MESSAGES: dict[str, Any] = {
    # pydantic's own types
    "missing": _("Mangler: feltet er påkrevd."),
    "extra_forbidden": _("Ukjent felt «{key}». Tillatte felt her: {known}."),
    "model_type": _("Må være et objekt."),
    "model_attributes_type": _("Må være et objekt."),
    "dict_type": _("Må være et objekt."),
    "list_type": _("Må være en liste."),
    "string_type": _("Må være tekst."),
    "string_too_short": _("Kan ikke være tom."),
    "string_too_long": _("Kan ha høyst {max_length} tegn."),
    "int_type": _("Må være et heltall."),
    "greater_than_equal": _("Må være minst {ge}."),
    "less_than_equal": _("Kan være høyst {le}."),
    "literal_error": _("Bare NOK er støttet (fikk «{shown}»)."),
    # ours (raised by the models' validators)
    "amount_type": _("Må være et beløp, som tekst («1200.00») eller tall."),
    "amount_format": _(
        "«{value}» er ikke et beløp med høyst 2 desimaler (for eksempel «1200.00»)."
    ),
    "not_finite": _("Må være et endelig tall."),
    "amount_too_large": _("Beløpet er for stort."),
    "amount_places": _("Beløpet kan ha høyst 2 desimaler."),
    "negative": _("Kan ikke være negativt."),
    "rate_type": _("Må være en mva-sats i prosent, som tekst («25») eller tall."),
    "rate_format": _("«{value}» er ikke en mva-sats i prosent (for eksempel «25»)."),
    "rate_range": _("Mva-satsen må være mellom 0 og 100."),
    "rate_places": _("Mva-satsen kan ha høyst 2 desimaler."),
    "date_type": _("Må være en dato som tekst, ÅÅÅÅ-MM-DD."),
    "date_invalid": _("«{value}» er ikke en gyldig dato."),
    "date_ahead": _("Datoen {day} ligger fram i tid (senest {latest})."),
    "date_too_old": _("Datoen {day} er for gammel."),
    "datetime_type": _("Må være et tidspunkt som tekst (ISO 8601)."),
    "datetime_format": _(
        "«{value}» er ikke et tidspunkt (ISO 8601, for eksempel «2026-11-27T21:04:55+01:00»)."
    ),
    "datetime_range": _("Tidspunktet er utenfor gyldig område."),
    "closed_before_opened": _("Kassen kan ikke være stengt før den ble åpnet (opened_at)."),
    "vat_with_zero_rate": _("Mva må være 0 når satsen er 0 %."),
    "vat_exceeds_gross": _("Mva kan ikke være større enn bruttobeløpet eller ha motsatt fortegn."),
    # the kontooppsett (accounting.mapping.MappingIn)
    "MappingIn.extra_forbidden": _("Ukjent felt"),
    "MappingIn.model_type": _("Kontooppsettet må være et JSON-objekt"),
    "mapping_section_type": _("Må være et objekt"),
    "mapping_sales_type": _("Må være et objekt med konto og MVA-kode"),
    "account_format": _("Kontonummer må være et heltall på minst 4 sifre"),
    "account_too_long": _("Kontonummeret er for langt (høyst 9 sifre)"),
    "account_unknown": _("Konto {account} finnes ikke i {system}"),
    "account_inactive": _("Konto {account} er inaktiv i {system}"),
    "vat_code_format": _('MVA-koden må være en kort tekst, f.eks. "3"'),
    "vat_code_not_sales": _("MVA-kode {code} er ikke en kode for salg ({description})"),
    "vat_code_unknown": _("MVA-kode {code} finnes ikke i {system}"),
    "vat_code_not_saft": _(
        "MVA-kode {code} er ikke en SAF-T-kode for salg (bruk 3, 31, 33, 5 eller 6)"
    ),
    "vat_code_rate": _("MVA-kode {code} gjelder {code_rate}, ikke {rate}"),
    "vat_code_missing": _("Salg må ha en MVA-kode for utgående mva"),
    "vat_code_without_account": _("MVA-koden er valgt, men kontoen mangler"),
    "vat_code_not_here": _("Betalingsmidler, mva- og gjeldskontoer føres uten MVA-kode"),
    "group_rate": _(
        "Varegruppen {name} selges med {rates}, men MVA-kode {code} gjelder {code_rate}"
    ),
    "rate_key": _("«{value}» er ikke en MVA-sats (et tall fra 0 til 100)"),
    "rate_key_places": _("En MVA-sats har høyst 2 desimaler"),
    "rate_twice": _("MVA-satsen {rate} er oppgitt to ganger"),
    "group_twice": _("Varegruppen {name} er oppgitt to ganger"),
    "group_unnamed": _("Varegruppen må ha et navn"),
    "method_unnamed": _("Betalingsmåten må ha et navn"),
    "name_too_long": _("Navnet er for langt (høyst 100 tegn)"),
    "name_unstorable": _("Navnet inneholder et tegn som ikke kan lagres"),
}
FALLBACK = _("Ugyldig verdi.")


def path_of(loc: Iterable[int | str]) -> str:
    """('sales', 1, 'count') -> "sales[1].count"; () -> "" (the body itself)."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else str(part)
    return path


def _fields_at(model: type[BaseModel] | None, loc: tuple[int | str, ...]) -> list[str]:
    """The field names of the model found at `loc` under `model` (for "Tillatte felt")."""
    for part in loc:
        if model is None:
            return []
        if isinstance(part, str):
            field = model.model_fields.get(part)
            model = _model_in(field.annotation) if field else None
    return list(model.model_fields) if model else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def error(kind: str, **context: Any) -> PydanticCustomError:
    """An error of one of our types, for a validator to raise; MESSAGES says it."""
    return PydanticCustomError(kind, kind, context)


def render(kind: str, context: dict[str, Any] | None = None) -> str:
    """The message of one error type, its context filled in."""
    try:
        return str(MESSAGES.get(kind, FALLBACK)).format(**(context or {}))
    except (KeyError, IndexError, ValueError):
        return str(FALLBACK)


def message(error: ErrorDetails, model: type[BaseModel] | None = None) -> str:
    kind = error["type"]
    if model is not None and f"{model.__name__}.{kind}" in MESSAGES:
        kind = f"{model.__name__}.{kind}"
    loc = error["loc"]
    shown = error.get("input")
    context = {
        **error.get("ctx", {}),
        "key": loc[-1] if loc else "",
        "known": ", ".join(_fields_at(model, loc[:-1])),
        # Echoed inputs are cut short: an answer never grows with what was sent.
        "shown": str(shown)[:20],
    }
    return render(kind, context)


def problems(exc: ValidationError, model: type[BaseModel] | None = None) -> list[dict[str, str]]:
    """Every error of `exc` as {"path", "message"}, in the order pydantic found them."""
    return [
        {"path": path_of(error["loc"]), "message": message(error, model)}
        for error in exc.errors(include_url=False)
    ]
