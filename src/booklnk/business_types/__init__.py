"""Business types: declarative definitions of how a kind of business schedules."""
