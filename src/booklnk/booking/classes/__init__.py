"""Class sessions with seats, their recurring series, and waitlists (class mode)."""
