"""The part of OData that Visma's list endpoints take: `$page`, `$pagesize`, `$filter` and
`$orderby`, applied to the serialized API objects, answered as Visma's paginated response
`{"Meta": {CurrentPage, PageSize, TotalNumberOfPages, TotalNumberOfResults, ServerTimeUtc},
"Data": [...]}`.

`$filter` understands comparisons (eq ne gt ge lt le) of a property with a literal, joined by
`and`/`or`, `not`, parentheses, and contains/startswith/endswith(Property,'text'). Literals:
'text' (with '' for a quote), numbers, true/false/null, date-times 2026-11-27T00:00:00Z,
datetime'…' and guid'…'. Date-times compare by value with the zone-less date-time strings
of the objects. A bare date (2026-11-27) is refused with 400, as Visma's OData v4 stack
refuses a date-time property compared with an Edm.Date.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.utils import timezone

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


class ODataError(ValueError):
    pass


_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>'(?:[^']|'')*')
    | (?P<typed>(?:datetime|guid)'[^']*')
    | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)
    | (?P<date>\d{4}-\d{2}-\d{2})
    | (?P<number>-?\d+(?:\.\d+)?)
    | (?P<punct>[(),])
    | (?P<word>[A-Za-z_][A-Za-z0-9_/]*)
    )""",
    re.VERBOSE,
)

_COMPARE = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a is not None and b is not None and a > b,
    "ge": lambda a, b: a is not None and b is not None and a >= b,
    "lt": lambda a, b: a is not None and b is not None and a < b,
    "le": lambda a, b: a is not None and b is not None and a <= b,
}
_FUNCTIONS = {
    "contains": lambda text, part: part.lower() in text.lower(),
    "startswith": lambda text, part: text.lower().startswith(part.lower()),
    "endswith": lambda text, part: text.lower().endswith(part.lower()),
}

Predicate = Callable[[dict], bool]


def _tokens(text: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise ODataError(f"Syntax error at position {position} in $filter.")
        kind = match.lastgroup
        assert kind is not None  # every alternative of _TOKEN is a named group
        found.append((kind, match.group(kind)))
        position = match.end()
    return found


def _parse_datetime(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    # Visma's dates carry no zone; compare as naive wall-clock values.
    return value.replace(tzinfo=None)


def _literal(kind: str, text: str):
    if kind == "string":
        return text[1:-1].replace("''", "'")
    if kind == "typed":
        prefix, _, rest = text.partition("'")
        value = rest[:-1]
        return _parse_datetime(value) if prefix == "datetime" else value.lower()
    if kind == "datetime":
        return _parse_datetime(text)
    if kind == "date":
        # Visma's properties are date-times (Edm.DateTimeOffset); OData v4 refuses one
        # compared with a date literal, as Visma does, rather than converting it.
        raise ODataError(
            "The query specified in the URI is not valid. A binary operator with "
            "incompatible types was detected. Found operand types 'Edm.DateTimeOffset' and "
            f"'Edm.Date' ({text})."
        )
    if kind == "number":
        return Decimal(text)
    if kind == "word" and text in ("true", "false"):
        return text == "true"
    if kind == "word" and text == "null":
        return None
    raise ODataError(f"Expected a literal, found '{text}'.")


def _coerce(value, like):
    """The object's value in the literal's type, so that they compare."""
    if value is None or like is None:
        return value
    if isinstance(like, datetime):
        try:
            return _parse_datetime(str(value))
        except ValueError:
            return None
    if isinstance(like, Decimal) and not isinstance(value, bool):
        try:
            return Decimal(str(value))
        except InvalidOperation:
            return None
    if isinstance(like, str) and isinstance(value, str):
        return value.lower() if _looks_like_guid(like) else value
    return value


def _looks_like_guid(text: str) -> bool:
    return bool(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", text))


class _Parser:
    def __init__(self, text: str, fields: set[str], type_name: str):
        self.tokens = _tokens(text)
        self.position = 0
        self.fields = fields
        self.type_name = type_name

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise ODataError("Unexpected end of $filter.")
        self.position += 1
        return token

    def expect(self, text: str) -> None:
        kind, value = self.take()
        if value != text:
            raise ODataError(f"Expected '{text}', found '{value}' in $filter.")

    def parse(self) -> Predicate:
        predicate = self.parse_or()
        if (token := self.peek()) is not None:
            raise ODataError(f"Unexpected '{token[1]}' in $filter.")
        return predicate

    def parse_or(self) -> Predicate:
        left = self.parse_and()
        while (token := self.peek()) and token[1] == "or":
            self.take()
            right = self.parse_and()
            left = (lambda a, b: lambda item: a(item) or b(item))(left, right)
        return left

    def parse_and(self) -> Predicate:
        left = self.parse_unary()
        while (token := self.peek()) and token[1] == "and":
            self.take()
            right = self.parse_unary()
            left = (lambda a, b: lambda item: a(item) and b(item))(left, right)
        return left

    def parse_unary(self) -> Predicate:
        token = self.peek()
        if token and token[1] == "not":
            self.take()
            inner = self.parse_unary()
            return lambda item: not inner(item)
        if token and token[1] == "(":
            self.take()
            inner = self.parse_or()
            self.expect(")")
            return inner
        if token and token[0] == "word" and token[1] in _FUNCTIONS:
            return self.parse_function()
        return self.parse_comparison()

    def field(self) -> str:
        kind, name = self.take()
        if kind != "word" or name not in self.fields:
            raise ODataError(
                f"Could not find a property named '{name}' on type '{self.type_name}'."
            )
        return name

    def parse_function(self) -> Predicate:
        _, name = self.take()
        self.expect("(")
        field = self.field()
        self.expect(",")
        kind, text = self.take()
        if kind != "string":
            raise ODataError(f"{name}() takes a quoted text.")
        self.expect(")")
        part, test = _literal(kind, text), _FUNCTIONS[name]
        return lambda item: isinstance(item.get(field), str) and test(item[field], part)

    def parse_comparison(self) -> Predicate:
        field = self.field()
        kind, operator = self.take()
        if operator not in _COMPARE:
            raise ODataError(f"Unknown operator '{operator}' in $filter.")
        literal = _literal(*self.take())
        compare = _COMPARE[operator]

        def predicate(item: dict) -> bool:
            try:
                return compare(_coerce(item.get(field), literal), literal)
            except TypeError:
                return False

        return predicate


def _sort_value(value):
    return "" if value is None else value


def _int_param(query, name: str, default: int) -> int:
    raw = query.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ODataError(f"{name} must be a whole number.") from None
    if value < 1:
        raise ODataError(f"{name} must be 1 or more.")
    return value


def paginate(items: list[dict], query, *, type_name: str) -> dict:
    """Filter, order and page `items` (serialized API objects) as Visma's list endpoints."""
    fields = set(items[0]) if items else set()
    filter_text = query.get("$filter", "").strip()
    if filter_text:
        if not items:
            _tokens(filter_text)  # still refuse nonsense
        else:
            predicate = _Parser(filter_text, fields, type_name).parse()
            items = [item for item in items if predicate(item)]
    order_text = query.get("$orderby", "").strip()
    if order_text and items:
        for clause in reversed([part.strip() for part in order_text.split(",")]):
            name, _, direction = clause.partition(" ")
            if name not in fields:
                raise ODataError(f"Could not find a property named '{name}' on type '{type_name}'.")
            items = sorted(
                items,
                key=lambda item: (item.get(name) is None, _sort_value(item.get(name))),
                reverse=direction.strip().lower() == "desc",
            )
    page = _int_param(query, "$page", 1)
    # Visma caps the page size instead of refusing a bigger one; Meta.PageSize says what
    # was used, so a client pages by Meta, never by what it asked for.
    page_size = min(_int_param(query, "$pagesize", DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE)
    total = len(items)
    start = (page - 1) * page_size
    return {
        "Meta": {
            "CurrentPage": page,
            "PageSize": page_size,
            "TotalNumberOfPages": math.ceil(total / page_size),
            "TotalNumberOfResults": total,
            "ServerTimeUtc": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        "Data": items[start : start + page_size],
    }
