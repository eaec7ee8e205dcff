"""Booklnk: multi-tenant appointment booking."""
