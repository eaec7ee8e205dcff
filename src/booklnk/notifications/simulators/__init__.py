"""Local stand-ins for the messaging providers, speaking their real protocols, for the
demo and development (the tests run their own)."""
