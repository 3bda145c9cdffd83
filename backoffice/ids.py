"""Ids from query strings: ASCII digits only, and small enough for a bigint.

str.isdigit() also accepts "²" and "٣" (int() then raises: a 500), and int() takes "９" and
"1_0"; a 30-digit number overflows PostgreSQL's bigint (another 500). Whatever else comes
is no id: None.
"""

import re

_ID = re.compile(r"[1-9][0-9]{0,17}")


def parse_id(value: str | None) -> int | None:
    if value is None or not _ID.fullmatch(value):
        return None
    return int(value)
