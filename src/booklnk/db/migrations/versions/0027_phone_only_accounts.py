"""Accounts made by a phone number alone: a customer booking on a phone may have no
e-mail address, and signs in by codes, with no password.

- `app_user.email` may be NULL (the unique index on `lower(email)` still holds for the
  addresses there are: PostgreSQL's unique indexes never compare NULLs).
- `app_user.password_hash` may be NULL: an account made by a code has no password.
- Every account keeps a way in: an e-mail address or a proven number (`has_address`).
  A deleted account keeps a placeholder address (`tenancy.erasure`), so it passes too.

The downgrade gives each phone-only account a placeholder address under `.invalid`
(reserved, never delivered to) and an unusable password, then restores NOT NULL.

Revision ID: 0027_phone_only_accounts
Revises: 0026_outgoing_webhooks
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027_phone_only_accounts"
down_revision: str | None = "0026_outgoing_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column("app_user", "email", existing_type=sa.String(320), nullable=True)
    op.alter_column("app_user", "password_hash", existing_type=sa.Text(), nullable=True)
    op.create_check_constraint(
        op.f("ck_app_user_has_address"), "app_user", "email IS NOT NULL OR phone IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_app_user_has_address"), "app_user", type_="check")
    op.execute(
        "UPDATE app_user SET email = 'phone-' || replace(id::text, '-', '') || '@phone.invalid'"
        " WHERE email IS NULL"
    )
    op.execute("UPDATE app_user SET password_hash = '!' WHERE password_hash IS NULL")
    op.alter_column("app_user", "password_hash", existing_type=sa.Text(), nullable=False)
    op.alter_column("app_user", "email", existing_type=sa.String(320), nullable=False)
