"""A local Kashier: hosted page, redirects, signed webhooks with retries, lookup and refund
APIs, Fawry's pending-then-paid sequence, and fault injection. See ``app`` for endpoints."""

from booklnk.payments.kashier.simulator.app import create_app
from booklnk.payments.kashier.simulator.server import ServerThread, run, serve
from booklnk.payments.kashier.simulator.settings import KASHIER_RETRY_DELAYS, Faults, SimulatorSettings

__all__ = [
    "KASHIER_RETRY_DELAYS",
    "Faults",
    "ServerThread",
    "SimulatorSettings",
    "create_app",
    "run",
    "serve",
]
