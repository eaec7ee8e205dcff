"""The background worker: procrastinate over the application's own database."""
