"""HTTP layer: the FastAPI app, problem+json errors, auth guards, and thin routers."""
