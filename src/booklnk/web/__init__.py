"""The web app: a business's booking page for customers, their bookings, and the front
desk, rendered on the server in Arabic (first) and English through the same use cases
the API calls (`site.install` mounts it on the API's app)."""
