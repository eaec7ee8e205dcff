"""Outgoing webhooks: an owner's endpoints, the messages recorded for them (an outbox,
written with the change that causes each) and every delivery attempt. Tenant tables,
behind row-level security.

Revision ID: 0026_outgoing_webhooks
Revises: 0025_audit_log
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from booklnk.db.rls import tenant_isolation_sql

revision: str = "0026_outgoing_webhooks"
# (0023 is being written beside this one; the chain is mended when both are merged.)
down_revision: str | None = "0025_audit_log"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("webhook_endpoint", "webhook_message", "webhook_attempt")


def upgrade() -> None:
    op.create_table(
        "webhook_endpoint",
        sa.Column("business_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("description", sa.String(200), server_default="", nullable=False),
        sa.Column("events", postgresql.ARRAY(sa.String(40)), nullable=False),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("disabled_reason", sa.String(300), nullable=True),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["business.id"],
            name=op.f("fk_webhook_endpoint_business_id_business"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("business_id", "id", name=op.f("pk_webhook_endpoint")),
    )
    op.create_table(
        "webhook_message",
        sa.Column("business_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("endpoint_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(40), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("pending", "delivered", "failed", name="webhook_status"),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("failures", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["business_id", "endpoint_id"],
            ["webhook_endpoint.business_id", "webhook_endpoint.id"],
            name=op.f("fk_webhook_message_business_id_endpoint_id_webhook_endpoint"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("business_id", "id", name=op.f("pk_webhook_message")),
    )
    op.create_index(
        "ix_webhook_message_endpoint",
        "webhook_message",
        ["business_id", "endpoint_id", "created_at", "id"],
    )
    op.create_index(
        "ix_webhook_message_pending",
        "webhook_message",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "webhook_attempt",
        sa.Column("business_id", sa.Uuid(), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_excerpt", sa.String(1000), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(300), nullable=True),
        sa.ForeignKeyConstraint(
            ["business_id", "message_id"],
            ["webhook_message.business_id", "webhook_message.id"],
            name=op.f("fk_webhook_attempt_business_id_message_id_webhook_message"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("business_id", "message_id", "number", name=op.f("pk_webhook_attempt")),
    )
    for table in _TABLES:
        for statement in tenant_isolation_sql(table):
            op.execute(statement)


def downgrade() -> None:
    for table in reversed(_TABLES):
        op.drop_table(table)
    op.execute("DROP TYPE webhook_status")
