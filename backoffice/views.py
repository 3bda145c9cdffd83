from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .celery import app as celery_app


def home(request):
    return redirect("settlements:list")


@never_cache
@require_GET
def healthz(request):
    """200 when the database answers (and Redis, where it is the broker)."""
    problems = {}
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
