from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from backoffice.tenancy import OrgRequest, member_required

from . import saft_codes
from .catalog import company_catalog
from .forms import MappingPage, rates_and_methods, read_post
from .mapping import MappingValidationError, fill_standard_chart, mapping_to_json
from .models import MappingChange
from .services import load_mapping, save_mapping, seen_in_settlements, validate_mapping_data

RECENT_CHANGES = 10


@member_required
@require_http_methods(["GET", "POST"])
def mapping(request: OrgRequest) -> HttpResponse:
    """The kontooppsett: admins edit, staff look. "Bruk standard kontoplan" posts the same
    form (action=standard), so what the admin typed and has not saved yet is kept too."""
    editable = request.membership.is_admin
    if request.method == "POST" and not editable:
        raise PermissionDenied(_("Bare administratorer kan endre kontooppsettet."))
    org = request.org
    catalog = company_catalog(org)
    seen = seen_in_settlements(org)
    if request.method == "POST":
        page = _save(request, catalog=catalog, seen=seen)
        if page is None:
            return redirect("accounting:mapping")
    else:
        page = _saved(org, catalog=catalog, seen=seen, editable=editable)
    saft_codes.describe(page, organization=org)
    changes = MappingChange.objects.filter(organization=org).select_related("user")[:RECENT_CHANGES]
    return render(
        request,
        "accounting/mapping.html",
        {"page": page, "editable": editable, "catalog": catalog, "changes": changes},
    )


def _save(request: OrgRequest, *, catalog, seen) -> MappingPage | None:
    """Validate the posted form and save it all, or return the page with every error."""
    parsed = read_post(request.POST)
    data = parsed.data
    standard = request.POST.get("action") == "standard"
    if standard:
        rates, methods = rates_and_methods(seen, data)
        data = fill_standard_chart(data, rates=rates, methods=methods, catalog=catalog)
        data = saft_codes.fill_payments(data, organization=request.org, catalog=catalog)
    errors = list(parsed.errors)
    try:
        mapping = validate_mapping_data(
            organization=request.org, data=data, catalog=catalog, seen=seen
        )
    except MappingValidationError as exc:
        errors.extend(exc.errors)
    if errors:
        return MappingPage(
            values=data, seen=seen, catalog=catalog, errors=errors, new_rows=parsed.new_rows
        )
    change = save_mapping(
        organization=request.org,
        mapping=mapping,
        user=request.user,
        action=MappingChange.Action.STANDARD if standard else MappingChange.Action.EDIT,
    )
    if change is None:
        messages.info(request, _("Ingen endringer å lagre."))
    elif standard:
        messages.success(request, _("Standard kontoplan er fylt inn i tomme felt og lagret."))
    else:
        messages.success(request, _("Kontooppsettet er lagret."))
    return None


def _saved(org, *, catalog, seen, editable: bool) -> MappingPage:
    values = mapping_to_json(load_mapping(org))
    # What was valid when saved may not be any more: the company's catalog changed, or a
    # till started selling a product group at another rate. Show it where it is.
    try:
        validate_mapping_data(organization=org, data=values, catalog=catalog, seen=seen)
        errors = []
    except MappingValidationError as exc:
        errors = exc.errors
    return MappingPage(values=values, seen=seen, catalog=catalog, errors=errors, editable=editable)
