"""Money is integer minor units (piasters for EGP) plus an ISO 4217 code; never floats."""

from __future__ import annotations

from dataclasses import dataclass

# Minor-unit exponents for the currencies we accept; extend when a market needs one.
MINOR_UNITS: dict[str, int] = {"EGP": 2, "USD": 2, "EUR": 2, "SAR": 2, "AED": 2, "KWD": 3}


@dataclass(frozen=True, slots=True)
class Money:
    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        if self.currency not in MINOR_UNITS:
            raise ValueError(f"unsupported currency {self.currency!r}")

    def major_str(self) -> str:
        """Decimal string in major units, e.g. 15000 EGP piasters -> "150.00"."""
        exp = MINOR_UNITS[self.currency]
        sign = "-" if self.amount_minor < 0 else ""
        whole, frac = divmod(abs(self.amount_minor), 10**exp)
        return f"{sign}{whole}.{frac:0{exp}d}"
