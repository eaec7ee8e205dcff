"""The durable job queue: procrastinate's schema, in the application's database.

Jobs live beside the data they act on, so a job can be enqueued in the very transaction
that makes it necessary (see ``booklnk.db.jobs``): it commits or vanishes with that data.

The schema is procrastinate 3.10.0's own ``schema.sql``. Upgrading procrastinate means
a new revision applying its ``sql/migrations`` files between the two versions.

Revision ID: 0006_job_queue
Revises: 0005_calendar_feed
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from alembic import op
from procrastinate.schema import SchemaManager
from sqlalchemy.util import await_only

revision: str = "0006_job_queue"
down_revision: str | None = "0005_calendar_feed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "procrastinate_events",
    "procrastinate_periodic_defers",
    "procrastinate_jobs",
    "procrastinate_workers",
)


def upgrade() -> None:
    # The schema is many statements with plpgsql bodies: asyncpg's simple-query `execute`
    # runs it as one script (SQLAlchemy would prepare it as a single statement).
    driver = op.get_bind().connection.driver_connection
    assert driver is not None  # an open asyncpg connection: Alembic runs inside a transaction
    await_only(driver.execute(SchemaManager.get_schema()))


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    op.execute(
        "DO $$ DECLARE f regprocedure; BEGIN"
        " FOR f IN SELECT oid::regprocedure FROM pg_proc WHERE proname LIKE 'procrastinate%'"
        " LOOP EXECUTE 'DROP FUNCTION ' || f || ' CASCADE'; END LOOP; END $$"
    )
    op.execute(
        "DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type,"
        " procrastinate_job_status CASCADE"
    )
