"""CSV exports open in Excel with Arabic as written, and no cell runs as a formula."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from booklnk.kernel.spreadsheet import BOM, cell, lines


def test_the_file_starts_with_a_bom_and_rows_end_in_crlf() -> None:
    text = "".join(lines(["name", "phone"], [["منى إبراهيم", "+201001234567"], ["=1+1", None]]))
    assert text.startswith(BOM + "name,phone\r\n")
    assert text.endswith("'=1+1,\r\n")
    assert "منى إبراهيم,'+201001234567\r\n" in text


@given(st.lists(st.lists(st.text(max_size=30), min_size=2, max_size=2), max_size=5))
def test_every_cell_reads_back_as_text_never_a_formula(rows: list[list[str]]) -> None:
    text = "".join(lines(["a", "b"], rows)).removeprefix(BOM)
    read = list(csv.reader(io.StringIO(text, newline="")))
    assert read[0] == ["a", "b"]
    assert read[1:] == [[cell(value) for value in row] for row in rows]
    assert not any(value.startswith(("=", "+", "-", "@")) for row in read[1:] for value in row)
