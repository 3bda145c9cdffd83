"""Shared machinery of the fuzzers: how many examples to run, the tally of what was tried,
and the summary at the end of the run ("fuzz: N bodies tried, 0 server errors, ...").

`make test` runs a fixed, reproducible set (derandomize=True). `make soak` sets
FUZZ_EXAMPLES (e.g. 20) to multiply every fuzzer's examples and lets hypothesis draw
fresh ones on every run; a failure then prints the seed to reproduce it
(pytest -p hypothesis --hypothesis-seed=N).
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter, defaultdict
from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# What every fuzzer tried and saw: name -> Counter("tried", "server_errors",
# "partial_writes", "status 400", ...). Filled by the tests, asserted on by each test,
# printed by pytest_terminal_summary in conftest.py.
TALLY: dict[str, Counter] = defaultdict(Counter)

SOAK_FACTOR = int(os.getenv("FUZZ_EXAMPLES", "0") or 0)


def examples(n: int) -> int:
    """n examples in `make test`; n × FUZZ_EXAMPLES under `make soak`."""
    return n * SOAK_FACTOR if SOAK_FACTOR > 1 else n


def fuzz_settings(n: int) -> settings:
    return settings(
        max_examples=examples(n),
        deadline=None,
        # Reproducible in CI; the soak explores new ground on every run.
        derandomize=SOAK_FACTOR <= 1,
        database=None,
        print_blob=True,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
            HealthCheck.filter_too_much,
        ],
    )


def record(name: str, **counts: int) -> None:
    TALLY[name].update(counts)


def containers(keys: st.SearchStrategy, *, size: int):
    """The `extend` of st.recursive: lists and objects of what is inside (a named function:
    hypothesis misreads the source of several similar lambdas in one module)."""

    def extend(inner: st.SearchStrategy) -> st.SearchStrategy:
        return st.one_of(
            st.lists(inner, max_size=size), st.dictionaries(keys, inner, max_size=size)
        )

    return extend


# --------------------------------------------------------------------------- JSON text


class Raw(str):
    """JSON text written as it is: numbers json.dumps cannot write (1.005 exactly, 1e400,
    NaN, a 5000-digit integer), invalid JSON, or nesting too deep to build as objects."""


class Dup(list):
    """A JSON object written from (key, value) pairs, so a key may appear twice."""


def dumps(value) -> str:
    """JSON text of a generated value (dict, list, Dup, Raw, str, int, bool, None, Decimal)."""
    if isinstance(value, Raw):
        return str(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        # ensure_ascii writes a lone surrogate as the escape \\udXXX, as a till could.
        return json.dumps(value)
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        return json.dumps(value)  # NaN and Infinity as Python's json writes (and reads) them
    if isinstance(value, Dup):
        return "{" + ",".join(f"{json.dumps(k)}:{dumps(v)}" for k, v in value) + "}"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    raise TypeError(type(value))


def decode(raw: bytes):
    """The request body as the server reads it, or None when it is not JSON at all."""
    try:
        return json.loads(
            raw.decode("utf-8-sig"), parse_float=Decimal, parse_constant=lambda name: name
        )
    except (ValueError, RecursionError):
        return None


# --------------------------------------------------------------------------- error paths

_INDEX = re.compile(r"\[(\d+)\]")
_FIELD_NAME = re.compile(r"[a-z_]+")


def path_in(doc, path: str) -> bool:
    """Whether an error path ("sales[0].vat_rate", "cash_count.counted", "") points into
    the input: every step exists, except that the last may name a missing field of an
    object that exists. "" is the body itself."""
    if path == "":
        return True
    return _walk(doc, path)


def _walk(node, rest: str) -> bool:
    if rest == "":
        return True
    if rest.startswith("["):
        match = _INDEX.match(rest)
        if not match or not isinstance(node, list) or int(match[1]) >= len(node):
            return False
        return _walk(node[int(match[1])], rest[match.end() :])
    if rest.startswith("."):
        rest = rest[1:]
    if not isinstance(node, dict):
        return False
    for key in node:
        if rest == key:
            return True
        if rest.startswith(key) and rest[len(key)] in ".[" and _walk(node[key], rest[len(key) :]):
            return True
    return bool(_FIELD_NAME.fullmatch(rest))
