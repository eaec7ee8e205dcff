"""Messages to people: recorded in an outbox with the event that causes them, delivered by
the worker through a channel (e-mail today), in the recipient's language."""
