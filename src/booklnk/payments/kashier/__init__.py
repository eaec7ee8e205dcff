"""Kashier: the gateway's protocol (hashes, signatures), its HTTP client and a local simulator.

The protocol as known, with its test vectors and the decisions where Kashier's documentation
is silent, is in ``shared/kashier/PROTOCOL.md``; section numbers in comments refer to it.
"""
