"""Bookings: lifecycle, holds and the guarantees against double-booking."""
