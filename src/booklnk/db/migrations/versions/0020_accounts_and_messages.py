"""Accounts proven by e-mail and the message outbox: one-time codes (registration and
password reset), each account's language, and the outbox of messages with their attempts
(a business's behind row-level security, the platform's outside every tenant).

Accounts made before this revision were never asked to prove their e-mail; they keep
working as they are.

Revision ID: 0020_accounts_and_messages
Revises: 0019_login_throttle
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0020_accounts_and_messages"
down_revision: str | None = "0019_login_throttle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PURPOSE = postgresql.ENUM("registration", "password_reset", name="code_purpose", create_type=False)
_CHANNEL = postgresql.ENUM("email", name="message_channel", create_type=False)
_STATUS = postgresql.ENUM("pending", "sent", "failed", "expired", name="message_status", create_type=False)


def upgrade() -> None:
    bind = op.get_bind()
    for kind in (_PURPOSE, _CHANNEL, _STATUS):
        kind.create(bind)
    op.add_column("app_user", sa.Column("language", sa.String(8), server_default="en", nullable=False))
    op.create_check_constraint("language_known", "app_user", "language IN ('ar', 'en')")
    op.create_table(
        "one_time_code",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("purpose", _PURPOSE, nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("language IN ('ar', 'en')", name="ck_one_time_code_language_known"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name="fk_one_time_code_user_id_app_user", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_one_time_code"),
    )
    op.create_index("ix_one_time_code_email_purpose", "one_time_code", [sa.text("lower(email)"), "purpose"])
    op.create_index("ix_one_time_code_user_id", "one_time_code", ["user_id"])
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("business_id", sa.Uuid(), nullable=True),
        sa.Column("booking_id", sa.Uuid(), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("channel", _CHANNEL, nullable=False),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("template", sa.String(64), nullable=False),
        sa.Column("locale", sa.String(8), nullable=False),
        sa.Column("params", postgresql.JSONB(), nullable=False),
        sa.Column("dedupe_key", sa.String(200), nullable=True),
        sa.Column("status", _STATUS, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("provider_message_id", sa.String(200), nullable=True),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["business.id"],
            name="fk_outbox_message_business_id_business",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name="fk_outbox_message_user_id_app_user", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_outbox_message"),
        sa.UniqueConstraint("seq", name="uq_outbox_message_seq"),
    )
    op.create_index("uq_outbox_message_dedupe_key", "outbox_message", ["dedupe_key"], unique=True)
    op.create_index("ix_outbox_message_user_id", "outbox_message", ["user_id"])
    op.create_index(
        "ix_outbox_message_booking",
        "outbox_message",
        ["business_id", "booking_id"],
        postgresql_where=sa.text("booking_id IS NOT NULL"),
    )
    op.create_index(
        "ix_outbox_message_pending",
        "outbox_message",
        ["created_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "message_attempt",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("business_id", sa.Uuid(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["outbox_message.id"],
            name="fk_message_attempt_message_id_outbox_message",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_id", "number", name="pk_message_attempt"),
    )
    op.create_index("ix_message_attempt_business_id", "message_attempt", ["business_id"])
    # A business's messages (about its bookings) are its tenant's alone; the platform's
    # (about accounts, no business) are seen only outside every tenant.
    for table in ("outbox_message", "message_attempt"):
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_or_platform ON {table}"
            " USING (business_id IS NOT DISTINCT FROM booklnk_current_tenant())"
            " WITH CHECK (business_id IS NOT DISTINCT FROM booklnk_current_tenant())"
        )


def downgrade() -> None:
    op.drop_table("message_attempt")
    op.drop_table("outbox_message")
    op.drop_table("one_time_code")
    op.drop_constraint("ck_app_user_language_known", "app_user")
    op.drop_column("app_user", "language")
    bind = op.get_bind()
    for kind in (_STATUS, _CHANNEL, _PURPOSE):
        kind.drop(bind)
