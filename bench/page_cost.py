"""(7) Page cost: queries and render time of /dagsoppgjor/ with 10 000 settlements and of
/oppsett/kontooppsett/ with a 500-account chart (target: the same number of queries as with
100 settlements / 10 accounts, and a paginated list).

In-process through Django's test client (the whole middleware stack, a signed-in admin),
queries counted with CaptureQueriesContext; render time is the fastest of a few GETs (the least disturbed by a busy machine) and is
context, the query counts are the figures. The settlements are bulk-created (bench.data),
not posted through the API. The chart comes from bench.catalog (a bench-only
ACCOUNTING_CATALOG_PROVIDER), so it costs the page no query of its own.
"""

from __future__ import annotations

import re
import time

from django.db import connection, reset_queries
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from accounting.mapping import mapping_from_json
from accounting.services import save_mapping, seen_in_settlements

from . import catalog as bench_catalog
from .common import best_of, figure, result
from .data import bulk_settlements, make_member, make_org, standard_mapping_json

SMALL, LARGE = 100, 10_000
FEW_ACCOUNTS, MANY_ACCOUNTS = 10, 500
STORES = 20
RENDER_ROUNDS = 5
LIST = "/dagsoppgjor/"
MAPPING = "/oppsett/kontooppsett/"
# A data row of the settlement list links to the settlement's detail page.
DETAIL_LINK = re.compile(r'<td class="num"><a href="/dagsoppgjor/\d+/">')


def _measure(client: Client, path: str) -> dict:
    # With DEBUG on, the connection's query log (a deque of 9 000) fills up over the timed
    # GETs; a full log would make the capture below see nothing.
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path}: {response.status_code}")
    html = response.content.decode()
    seconds = best_of(lambda: client.get(path), rounds=RENDER_ROUNDS)
    return {
        "queries": len(queries.captured_queries),
        "sql": [q["sql"] for q in queries.captured_queries],
        "ms": round(seconds * 1000, 1),
        "kb": round(len(html) / 1024, 1),
        "rows": len(DETAIL_LINK.findall(html)),
        "html": html,
    }


def _rows_fetched(fn) -> tuple[int, object]:
    """Rows the SELECTs of fn() bring back from PostgreSQL: its captured statements run
    again (the log holds them with their parameters filled in)."""
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        value = fn()
    rows = 0
    with connection.cursor() as cursor:
        for query in queries.captured_queries:
            if query["sql"].lstrip().upper().startswith("SELECT"):
                cursor.execute(query["sql"])
                rows += len(cursor.fetchall())
    return rows, value


def _same(a: dict, b: dict) -> bool:
    return a["queries"] == b["queries"]


def _grown_queries(a: dict, b: dict) -> list[str]:
    """The statements of b that a does not have (for the note when counts differ)."""
    seen = list(a["sql"])
    extra = []
    for sql in b["sql"]:
        if sql in seen:
            seen.remove(sql)
        else:
            extra.append(sql[:160])
    return extra[:5]


def run() -> dict:
    org, stores = make_org("benk-sider", locations=STORES)
    user = make_member(org, "benk-admin")
    save_mapping(
        organization=org,
        mapping=mapping_from_json(standard_mapping_json(), catalog=None),
        user=user,
    )
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)

    next_z = bulk_settlements(org, stores, SMALL)
    with override_settings(ACCOUNTING_CATALOG_PROVIDER="bench.catalog.bench_catalog"):
        list_small = _measure(client, LIST)
        bench_catalog.ACCOUNTS = FEW_ACCOUNTS
        mapping_few = _measure(client, MAPPING)
        bench_catalog.ACCOUNTS = MANY_ACCOUNTS
        mapping_many = _measure(client, MAPPING)

        start = time.perf_counter()
        bulk_settlements(org, stores, LARGE - SMALL, first_z=next_z)
        seed_seconds = time.perf_counter() - start
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # as autovacuum would after a bulk load
        list_large = _measure(client, LIST)
        pages = -(-LARGE // max(1, list_large["rows"]))
        list_last = _measure(client, f"{LIST}?page={pages}")
        list_filtered = _measure(client, f"{LIST}?state=pending")
        mapping_large = _measure(client, MAPPING)
        seen_rows, seen = _rows_fetched(lambda: seen_in_settlements(org))
    distinct = sum(len(rates) for rates in seen.group_rates.values()) + len(seen.methods)

    list_ratio = list_large["ms"] / list_small["ms"]
    mapping_ratio = mapping_large["ms"] / mapping_few["ms"]
    figures = [
        figure(
            f"/dagsoppgjor/ queries, {SMALL} → {LARGE:,} settlements",
            f"{list_small['queries']} → {list_large['queries']}",
            "equal",
            _same(list_small, list_large),
        ),
        figure(
            f"/dagsoppgjor/ rows on the page, {LARGE:,} settlements",
            list_large["rows"],
            "≤ 50 (paginated)",
            0 < list_large["rows"] <= 50,
        ),
        figure(
            "/dagsoppgjor/ queries, last page / filtered by state",
            f"{list_last['queries']} / {list_filtered['queries']}",
            "equal",
            list_last["queries"] == list_large["queries"] == list_filtered["queries"],
        ),
        figure(
            f"/dagsoppgjor/ render ms, {SMALL} / {LARGE:,} / last page",
            f"{list_small['ms']} / {list_large['ms']} / {list_last['ms']}",
        ),
        figure(f"/dagsoppgjor/ render time {LARGE:,} ÷ {SMALL}", round(list_ratio, 2)),
        figure(
            f"kontooppsett queries, {FEW_ACCOUNTS} → {MANY_ACCOUNTS} accounts",
            f"{mapping_few['queries']} → {mapping_many['queries']}",
            "equal",
            _same(mapping_few, mapping_many),
        ),
        figure(
            f"kontooppsett queries, {SMALL} → {LARGE:,} settlements ({MANY_ACCOUNTS} accounts)",
            f"{mapping_many['queries']} → {mapping_large['queries']}",
            "equal",
            _same(mapping_many, mapping_large),
        ),
        figure(
            f"kontooppsett render ms, {FEW_ACCOUNTS} acc / {MANY_ACCOUNTS} acc / "
            f"{MANY_ACCOUNTS} acc + {LARGE:,} settl.",
            f"{mapping_few['ms']} / {mapping_many['ms']} / {mapping_large['ms']}",
        ),
        figure(
            f"kontooppsett render time ({MANY_ACCOUNTS} acc, {LARGE:,} settl.) ÷ "
            f"({FEW_ACCOUNTS} acc, {SMALL} settl.)",
            round(mapping_ratio, 2),
        ),
        figure(
            f"kontooppsett: rows read by seen_in_settlements, {LARGE:,} settlements",
            seen_rows,
            f"= distinct values ({distinct})",
            seen_rows <= distinct,
        ),
        figure(
            f"kontooppsett page size, {FEW_ACCOUNTS} / {MANY_ACCOUNTS} accounts",
            f"{mapping_few['kb']} / {mapping_many['kb']} KB",
        ),
    ]
    notes = []
    for name, a, b in (
        ("/dagsoppgjor/", list_small, list_large),
        ("kontooppsett (accounts)", mapping_few, mapping_many),
        ("kontooppsett (settlements)", mapping_many, mapping_large),
    ):
        if not _same(a, b):
            notes.append(f"{name}: extra queries: {_grown_queries(a, b)}")
    return result(
        7,
        "Page cost",
        figures,
        notes=notes,
        context={
            "seed_seconds": round(seed_seconds, 1),
            "list_queries_sql": list_large["sql"],
            "mapping_queries_sql": mapping_large["sql"],
            "list_ms": {"small": list_small["ms"], "large": list_large["ms"]},
            "mapping_ms": {
                "few": mapping_few["ms"],
                "many": mapping_many["ms"],
                "many_large": mapping_large["ms"],
            },
        },
    )
