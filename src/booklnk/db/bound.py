"""Statements built once for a hot path: each column bound to a parameter of its own type,
the values given with each execution. Composing such a statement per call cost the booking
and the webhook intake as much CPU as running it (py-spy under bench/stack.py and
bench/intake.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import BindParameter, FromClause, bindparam


def bound_columns(table: FromClause, columns: Iterable[str], prefix: str) -> dict[str, BindParameter[object]]:
    """`columns` of `table`, each bound to the parameter `<prefix><column>` (the prefix keeps
    them apart from the statement's other parameters)."""
    return {c: bindparam(f"{prefix}{c}", type_=table.c[c].type) for c in columns}


def bound_values(prefix: str, values: Mapping[str, object]) -> dict[str, object]:
    """The execution's parameters for `bound_columns`' statement: each column's value."""
    return {f"{prefix}{column}": value for column, value in values.items()}
