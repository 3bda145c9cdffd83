"""The baseline of the ingestion figure: the same stack (gunicorn, Django, the middleware,
PostgreSQL) doing the least an ingestion can do: read the body and INSERT it once."""

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

# Created by bench/run.py in the bench database only; no model, no migration.
PING_TABLE = "bench_ping"
CREATE_PING_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {PING_TABLE} "
    "(id bigserial PRIMARY KEY, body text NOT NULL, received_at timestamptz DEFAULT now())"
)


@csrf_exempt
def insert_one(request: HttpRequest) -> JsonResponse:
    body = request.body.decode("utf-8")
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {PING_TABLE} (body) VALUES (%s) RETURNING id", [body])
        (row_id,) = cursor.fetchone()
    return JsonResponse({"id": row_id}, status=201)
