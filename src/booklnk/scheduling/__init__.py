"""Scheduling: the pure availability engine (interval arithmetic over expanded schedules,
minus bookings and holds, under a business's rules). No I/O anywhere in this package."""
