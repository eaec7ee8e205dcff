"""CSV as spreadsheets open it. Pure.

Excel reads a CSV file as the machine's ANSI code page unless the file starts with a UTF-8
byte order mark: with it, Arabic names open as written. Rows end in CRLF (RFC 4180). A
cell starting with = + - @ (or a tab or carriage return) is a formula to a spreadsheet, so
one is prefixed with an apostrophe (OWASP's advice on CSV injection): a customer named
"=HYPERLINK(…)" stays text, and a number stays "+201…" instead of becoming a sum.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

BOM = "\ufeff"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def lines(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterable[str]:
    """The file, a line at a time (to stream): the BOM and the header first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    yield BOM + buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([cell(value) for value in row])
        yield buffer.getvalue()
