"""Who did what to a business, and when: an append-only log its owners read (booking
status changes are kept by the booking aggregate itself and read alongside)."""
