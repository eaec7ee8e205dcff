"""How much a booking asks for up front. Pure."""

from __future__ import annotations

from booklnk.business_types.definition import EffectiveRules


def amount_due(rules: EffectiveRules, price_minor: int) -> int:
    """The whole price, or the deposit (rounded up to a whole minor unit, so a deposit is
    never less than its percent)."""
    if rules.payment_policy == "deposit" and rules.deposit_percent is not None:
        return -(-price_minor * rules.deposit_percent // 100)
    return price_minor
