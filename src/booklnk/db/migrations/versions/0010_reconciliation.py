"""Reconciliation runs (one per business and local day) and the mismatches they found.

Revision ID: 0010_reconciliation
Revises: 0009_refunds
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from booklnk.db.rls import tenant_isolation_sql

revision: str = "0010_reconciliation"
down_revision: str | None = "0009_refunds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reconciliation_run",
        sa.Column("business_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("orders_checked", sa.Integer(), nullable=False),
        sa.Column("mismatches", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["business.id"],
            name=op.f("fk_reconciliation_run_business_id_business"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("business_id", "id", name=op.f("pk_reconciliation_run")),
        sa.UniqueConstraint("business_id", "day", name=op.f("uq_reconciliation_run_business_id_day")),
    )
    op.create_table(
        "reconciliation_mismatch",
        sa.Column("business_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "captured_not_recorded",
                "paid_here_not_at_gateway",
                "amount_differs",
                "currency_differs",
                "refunds_differ",
                "status_differs",
                name="mismatch_kind",
            ),
            nullable=False,
        ),
        sa.Column("ours", sa.Text(), nullable=False),
        sa.Column("gateway", sa.Text(), nullable=False),
        sa.Column("healed", sa.Boolean(), nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["business_id", "run_id"],
            ["reconciliation_run.business_id", "reconciliation_run.id"],
            name=op.f("fk_reconciliation_mismatch_business_id_run_id_reconciliation_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("business_id", "id", name=op.f("pk_reconciliation_mismatch")),
        sa.UniqueConstraint(
            "business_id",
            "run_id",
            "order_id",
            "kind",
            name=op.f("uq_reconciliation_mismatch_business_id_run_id_order_id_kind"),
        ),
    )
    for table in ("reconciliation_run", "reconciliation_mismatch"):
        for statement in tenant_isolation_sql(table):
            op.execute(statement)


def downgrade() -> None:
    op.drop_table("reconciliation_mismatch")
    op.drop_table("reconciliation_run")
    op.execute("DROP TYPE mismatch_kind")
