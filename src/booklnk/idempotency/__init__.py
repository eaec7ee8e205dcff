"""Idempotency keys: a retried POST returns the original response instead of acting twice."""

from booklnk.idempotency.service import (
    KeyInFlight,
    Scope,
    StoredResponse,
    claim,
    fingerprint,
    prune_expired,
    record,
)

__all__ = ["KeyInFlight", "Scope", "StoredResponse", "claim", "fingerprint", "prune_expired", "record"]
