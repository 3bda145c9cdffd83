from django.contrib import messages
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_POST

from .celery import app as celery_app
from .models import ApiKey, AuditEvent, Location
from .services import issue_api_key, revoke_api_key
from .tenancy import OrgRequest, admin_required


def home(request: HttpRequest) -> HttpResponse:
    return redirect("settlements:list")


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """200 when the database answers (and Redis, where it is the broker)."""
    problems: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        problems["database"] = exc.__class__.__name__
    from django.conf import settings

    if settings.REDIS_URL:
        try:
            with celery_app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
        except Exception as exc:  # noqa: BLE001
            problems["redis"] = exc.__class__.__name__
    if problems:
        return JsonResponse({"status": "error", "problems": problems}, status=503)
    return HttpResponse("ok", content_type="text/plain")


# ---------------------------------------------------------------- Oppsett > Butikker, Logg


@admin_required
@require_GET
def stores(request: OrgRequest) -> HttpResponse:
    """The organisation's stores and their API keys; admins issue and revoke keys here."""
    return _stores_page(request)


def _stores_page(
    request: OrgRequest,
    *,
    new_key: str = "",
    new_key_location: Location | None = None,
    status: int = 200,
) -> HttpResponse:
    locations = Location.objects.filter(organization=request.org).prefetch_related(
        Prefetch("api_keys", queryset=ApiKey.objects.order_by("-created_at", "-id"))
    )
    response = render(
        request,
        "backoffice/stores.html",
        {"locations": locations, "new_key": new_key, "new_key_location": new_key_location},
        status=status,
    )
    return response


@sensitive_variables("raw")
@require_POST
@admin_required
def issue_key(request: OrgRequest, location_id: int) -> HttpResponse:
    location = get_object_or_404(Location, pk=location_id, organization=request.org)
    _key, raw = issue_api_key(location=location, actor=request.user)
    # Shown on this answer only (never stored, never in a redirect or the session).
    return _stores_page(request, new_key=raw, new_key_location=location)


@require_POST
@admin_required
def revoke_key(request: OrgRequest, key_id: int) -> HttpResponse:
    key = get_object_or_404(
        ApiKey.objects.select_related("location"), pk=key_id, location__organization=request.org
    )
    if revoke_api_key(key=key, actor=request.user):
        messages.success(
            request,
            _("Nøkkelen %(prefix)s… for %(store)s er trukket tilbake og virker ikke lenger.")
            % {"prefix": key.prefix, "store": key.location.name},
        )
    else:
        messages.info(request, _("Nøkkelen var allerede trukket tilbake."))
    return redirect("stores")


AUDIT_PAGE_SIZE = 50


@admin_required
@require_GET
def audit_log(request: OrgRequest) -> HttpResponse:
    events = AuditEvent.objects.filter(organization=request.org).select_related("actor")
    page = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "backoffice/audit_log.html", {"page": page})
