"""Idempotency keys: a retried POST returns the original response instead of acting twice."""

from booklnk.idempotency.service import Scope, StoredResponse, fingerprint, record, release, reserve

__all__ = ["Scope", "StoredResponse", "fingerprint", "record", "release", "reserve"]
