"""Which constraint an insert broke, as the application maps it to an answer (a lost race,
a taken slug): from the server's field on PostgreSQL, from the message where Citus relays
a worker's error without that field and names the shard's copy of the constraint."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from booklnk.db.errors import sqlstate, violated_constraint


async def test_postgresql_names_the_constraint(owner_engine: AsyncEngine) -> None:
    async with owner_engine.connect() as conn:
        await conn.execute(
            text(
                "CREATE TEMP TABLE spans"
                " (r int4range, CONSTRAINT ex_spans_overlap EXCLUDE USING gist (r WITH &&))"
            )
        )
        await conn.execute(text("INSERT INTO spans VALUES ('[1,5)')"))
        with pytest.raises(IntegrityError) as refused:
            await conn.execute(text("INSERT INTO spans VALUES ('[3,7)')"))
    assert violated_constraint(refused.value) == "ex_spans_overlap"


def _relayed(code: str, message: str) -> IntegrityError:
    """An error as Citus relays it (seen on Citus 13.2): the fields asyncpg reads off the
    wire, without the constraint's name ('n'), wrapped as SQLAlchemy wraps the driver's."""
    driver_error = asyncpg.exceptions.PostgresError.new({"C": code, "M": message})
    adapted = Exception(message)
    adapted.__cause__ = driver_error
    return IntegrityError("INSERT …", None, adapted)


@pytest.mark.parametrize(
    ("code", "message", "constraint"),
    [
        (
            "23P01",
            'conflicting key value violates exclusion constraint "ex_allocation_overlap_102019"',
            "ex_allocation_overlap",
        ),
        ("23505", 'duplicate key value violates unique constraint "pk_membership_102435"', "pk_membership"),
        (
            "23505",
            'duplicate key value violates unique constraint "uq_business_slug_102009"',
            "uq_business_slug",
        ),
        (
            "23502",
            'null value in column "name" of relation "business_102009" violates not-null constraint',
            None,
        ),
    ],
)
def test_a_constraint_citus_names_by_its_shard_is_read_from_the_message(
    code: str, message: str, constraint: str | None
) -> None:
    relayed = _relayed(code, message)
    assert (sqlstate(relayed), violated_constraint(relayed)) == (code, constraint)
