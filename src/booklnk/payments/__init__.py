"""Payments: gateway protocols (Kashier) kept apart from the booking domain that uses them."""
