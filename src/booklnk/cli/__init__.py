"""The `booklnk` command line."""
