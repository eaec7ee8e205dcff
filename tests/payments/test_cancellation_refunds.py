"""Cancelling a paid booking gives back what the policy says, through Kashier: all of it
within the free window or when the business cancels, the type's late share after it."""

from __future__ import annotations

import httpx
from flow_support import money, ok, open_consultancy, paid_booking, until
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from booklnk.payments.decisions import spread
from support import Account

PRICE, DEPOSIT = 30_001, 15_001  # the consultant type takes a 50% deposit, rounded up


async def _late_only_consultancy(http: httpx.AsyncClient, late_percent: int) -> tuple[str, Account, str]:
    """Every booking the tests make (two days ahead) is already past the free window."""
    base, owner, service_id = await open_consultancy(http)
    overrides = {"cancellation_window_minutes": 10_080, "late_cancellation_refund_percent": late_percent}
    await ok(http, owner, "PATCH", base, {"rule_overrides": overrides})
    return base, owner, service_id


async def test_a_late_cancellation_refunds_the_types_share_of_the_deposit(
    http: httpx.AsyncClient, simulator_url: str, owner_engine: AsyncEngine
) -> None:
    consultancy = await _late_only_consultancy(http, late_percent=40)
    customer, booking, checkout = await paid_booking(http, consultancy, simulator_url)
    cancelled = await ok(http, customer, "POST", f"{consultancy[0]}/bookings/{booking['id']}/cancel")
    share = DEPOSIT * 40 // 100
    assert cancelled["cancellation"] == {
        "by": "customer",
        "within_free_window": False,
        "refund_percent": 40,
        "refundable": True,
        "refund_minor": share,
        "desk_refund_due_minor": 0,
    }

    async def ledger() -> list[tuple[str, int]]:
        return (await money(owner_engine, checkout["order_id"]))[0]

    expected = [("capture", DEPOSIT), ("refund", share)]
    assert await until(ledger, expected) == expected


async def test_a_late_cancellation_with_no_share_refunds_nothing_but_the_business_refunds_all(
    http: httpx.AsyncClient, simulator_url: str, owner_engine: AsyncEngine
) -> None:
    consultancy = await _late_only_consultancy(http, late_percent=0)
    base, owner, _ = consultancy
    customer, booking, checkout = await paid_booking(http, consultancy, simulator_url)
    cancelled = await ok(http, customer, "POST", f"{base}/bookings/{booking['id']}/cancel")
    assert cancelled["status"] == "cancelled"
    assert (cancelled["cancellation"]["refund_percent"], cancelled["cancellation"]["refund_minor"]) == (
        0,
        None,
    )

    _, other, other_checkout = await paid_booking(http, consultancy, simulator_url)
    by_business = await ok(http, owner, "POST", f"{base}/bookings/{other['id']}/cancel")
    assert by_business["cancellation"]["refund_minor"] == DEPOSIT

    async def ledger() -> list[tuple[str, int]]:
        return (await money(owner_engine, other_checkout["order_id"]))[0]

    expected = [("capture", DEPOSIT), ("refund", DEPOSIT)]
    assert await until(ledger, expected) == expected
    assert (await money(owner_engine, checkout["order_id"]))[0] == [("capture", DEPOSIT)]


@given(
    st.integers(min_value=0, max_value=10**9),
    st.lists(st.integers(min_value=0, max_value=10**8), max_size=6),
)
def test_a_refund_is_spread_over_the_paid_attempts_oldest_first(amount: int, lefts: list[int]) -> None:
    parts = spread(amount, lefts)
    assert len(parts) == len(lefts)
    assert all(0 <= part <= left for part, left in zip(parts, lefts, strict=True))
    assert sum(parts) == min(amount, sum(lefts))
    # An attempt is drawn on only once every older one is used up.
    for i, part in enumerate(parts):
        if part > 0:
            assert all(parts[j] == lefts[j] for j in range(i))
