"""One writer per table of the booking aggregate: the statements that insert, update or
delete its rows (SQLAlchemy's `insert(…)`/`update(…)`/`delete(…)` of its models, or SQL
text naming its tables) stand in one module each. Read as source text, like a linter."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "booklnk"
BOOKINGS = "booking/repository.py"
CLASSES = "booking/classes/repository.py"
WRITERS = {
    ("Booking", "booking"): BOOKINGS,
    ("StatusChange", "booking_status_change"): BOOKINGS,
    ("Allocation", "allocation"): BOOKINGS,
    ("ClassSession", "class_session"): CLASSES,
    ("ClassSeries", "class_series"): CLASSES,
    ("WaitlistEntry", "waitlist_entry"): CLASSES,
}


def _writes(source: str, model: str, table: str) -> bool:
    orm = re.search(rf"\b(insert|update|delete)\({model}\b", source)
    sql = re.search(rf"\b(INSERT INTO|UPDATE|DELETE FROM) {table}\b", source)
    return bool(orm or sql)


def test_each_table_of_the_aggregate_has_one_writer() -> None:
    modules = [p for p in SRC.rglob("*.py") if "migrations" not in p.parts]
    for (model, table), writer in WRITERS.items():
        found = sorted(
            str(p.relative_to(SRC)) for p in modules if _writes(p.read_text(encoding="utf-8"), model, table)
        )
        assert found == [writer], (table, found)


def test_the_guard_sees_a_write() -> None:
    # The patterns match what the writers do, so the test above cannot pass vacuously.
    assert _writes("update(Booking).where(", "Booking", "booking")
    assert _writes("INSERT INTO allocation (business_id", "Allocation", "allocation")
    assert not _writes("select(Booking).where(", "Booking", "booking")
