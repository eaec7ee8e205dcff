"""Database plumbing: engine, units of work with tenant context, embedded server."""
