"""`python -m booklnk.cli`: the same as the `booklnk` command."""

from booklnk.cli.main import app

app()
