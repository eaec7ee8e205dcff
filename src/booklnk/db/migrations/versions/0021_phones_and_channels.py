"""Phone numbers as an identity, text-message channels and delivery reports.

- `app_user.phone`: a number proven by a code (E.164), unique; `app_user.channels`: the
  account's channels for booking messages, in the order to try them (NULL: the default
  order; a channel left out is opted out of).
- `one_time_code.email` becomes `address`: codes now go to phone numbers too; two more
  purposes (proving a phone, signing in by code).
- The outbox speaks SMS and WhatsApp; each message may carry the channels to fall back on
  when its own refuses it, and the provider's last reported delivery status; every report
  is kept once (`delivery_report`, behind the same row-level security as its message).

Revision ID: 0021_phones_and_channels
Revises: 0020_accounts_and_messages
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0021_phones_and_channels"
down_revision: str | None = "0020_accounts_and_messages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # (ALTER TYPE … ADD VALUE may not run inside a transaction block on PostgreSQL < 12
    # only; 15 and the embedded 16 accept it, and the new values are not used here.)
    for value in ("sms", "whatsapp"):
        op.execute(f"ALTER TYPE message_channel ADD VALUE IF NOT EXISTS '{value}'")
    for value in ("phone_verification", "sign_in"):
        op.execute(f"ALTER TYPE code_purpose ADD VALUE IF NOT EXISTS '{value}'")
    op.add_column("app_user", sa.Column("phone", sa.String(16), nullable=True))
    op.add_column("app_user", sa.Column("channels", postgresql.ARRAY(sa.String(16)), nullable=True))
    op.create_index("uq_app_user_phone", "app_user", ["phone"], unique=True)
    op.alter_column("one_time_code", "email", new_column_name="address")
    op.execute("ALTER INDEX ix_one_time_code_email_purpose RENAME TO ix_one_time_code_address_purpose")
    op.add_column(
        "outbox_message", sa.Column("fallbacks", postgresql.JSONB(), server_default="[]", nullable=False)
    )
    op.add_column("outbox_message", sa.Column("delivery_status", sa.String(16), nullable=True))
    op.add_column(
        "outbox_message", sa.Column("delivery_status_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index("ix_outbox_message_provider_id", "outbox_message", ["provider_message_id"])
    op.create_table(
        "delivery_report",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("business_id", sa.Uuid(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["outbox_message.id"],
            name="fk_delivery_report_message_id_outbox_message",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_id", "status", name="pk_delivery_report"),
    )
    op.create_index("ix_delivery_report_business_id", "delivery_report", ["business_id"])
    op.execute("ALTER TABLE delivery_report ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE delivery_report FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_or_platform ON delivery_report"
        " USING (business_id IS NOT DISTINCT FROM booklnk_current_tenant())"
        " WITH CHECK (business_id IS NOT DISTINCT FROM booklnk_current_tenant())"
    )


def downgrade() -> None:
    op.drop_table("delivery_report")
    op.drop_index("ix_outbox_message_provider_id", "outbox_message")
    for column in ("delivery_status_at", "delivery_status", "fallbacks"):
        op.drop_column("outbox_message", column)
    op.execute("ALTER INDEX ix_one_time_code_address_purpose RENAME TO ix_one_time_code_email_purpose")
    op.alter_column("one_time_code", "address", new_column_name="email")
    op.drop_index("uq_app_user_phone", "app_user")
    op.drop_column("app_user", "channels")
    op.drop_column("app_user", "phone")
    # (Enum values cannot be dropped; the extra ones are harmless.)
