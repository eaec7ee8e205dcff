"""Outgoing webhooks to integrators: endpoints an owner registers, the events recorded for
them in the transaction of the change that causes them (an outbox), and their signed
delivery (Standard Webhooks) by the worker, with retries, a delivery log and automatic
disabling of an endpoint that keeps failing."""
