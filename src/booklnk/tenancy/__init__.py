"""Tenants (businesses), accounts, memberships with roles, and authentication."""
