"""Every tenant table's keys scoped by business, so that a PostgreSQL sharded by business
(Citus) can distribute them; the same guarantees on a single server.

- The uniques that named no business (an invitation's and a calendar feed's token hash, a
  staff member's and a resource's lane, a payment attempt's order id) are now unique
  within their business. None is looked up without its business, and what must stay
  unique across tenants still is: token hashes are SHA-256 of 32 random bytes, a
  checkout's order id is the key of the global `payment_order` written with it, and
  lanes still come from one sequence.
- The no-overlap constraint keys on the business too (`business_id WITH =`, what Citus
  requires of an exclusion constraint on a distributed table) where the server has
  `btree_gist`. Where it has not (the embedded server's build), it keeps the core-GiST
  form: the lane already makes a span unique to one tenant, so both forms refuse exactly
  the same overlaps.
- A lane must fit the span's bits (`lane << 34` plus seconds since 1970 in a bigint): a
  sequence started elsewhere (Citus starts a worker's copy at 2^48) would otherwise wrap
  and give two lanes one span. A lane that does not fit is refused, never shared.
- Removing a member no longer unlinks the staff member by `ON DELETE SET NULL (user_id)`,
  which Citus does not accept; `flows.team.remove_member` unlinks it first, in the same
  transaction, and the foreign key refuses a removal that did not.

Revision ID: 0031_distributable
Revises: 0030_allocation_start
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031_distributable"
down_revision: str | None = "0030_allocation_start"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column) unique across tenants before, within one business after.
SCOPED = [
    ("invitation", "token_hash"),
    ("calendar_feed", "token_hash"),
    ("staff_member", "lane"),
    ("resource", "lane"),
    ("payment_attempt", "order_id"),
]
LANE_FITS = "lane BETWEEN 1 AND 536870911"  # 2^29 - 1: 29 bits of lane over 34 of seconds
LANED = ("staff_member", "resource", "allocation")
STAFF_MEMBER_FK = "fk_staff_member_business_id_user_id_membership"
OVERLAP = "ex_allocation_overlap"


def _has_btree_gist() -> bool:
    available = op.get_bind().execute(
        sa.text("SELECT count(*) FROM pg_available_extensions WHERE name = 'btree_gist'")
    )
    return bool(available.scalar_one())


def _overlap(keys: str) -> None:
    op.drop_constraint(OVERLAP, "allocation")
    op.execute(f"ALTER TABLE allocation ADD CONSTRAINT {OVERLAP} EXCLUDE USING gist ({keys}) WHERE (active)")


def _staff_member_fk(ondelete: str | None) -> None:
    op.drop_constraint(STAFF_MEMBER_FK, "staff_member")
    op.create_foreign_key(
        STAFF_MEMBER_FK,
        "staff_member",
        "membership",
        ["business_id", "user_id"],
        ["business_id", "user_id"],
        ondelete=ondelete,
    )


def upgrade() -> None:
    for table, column in SCOPED:
        op.drop_constraint(f"uq_{table}_{column}", table)
        op.create_unique_constraint(f"uq_{table}_business_id_{column}", table, ["business_id", column])
    for table in LANED:
        op.create_check_constraint(op.f(f"ck_{table}_lane_fits_span"), table, LANE_FITS)
    _staff_member_fk(None)
    if _has_btree_gist():
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        _overlap("business_id WITH =, span WITH &&")


def downgrade() -> None:
    _overlap("span WITH &&")
    _staff_member_fk("SET NULL (user_id)")
    for table in LANED:
        op.drop_constraint(f"ck_{table}_lane_fits_span", table)
    for table, column in SCOPED:
        op.drop_constraint(f"uq_{table}_business_id_{column}", table)
        op.create_unique_constraint(f"uq_{table}_{column}", table, [column])
