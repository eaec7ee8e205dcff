"""`booklnk openapi` prints the document /openapi.json serves, without a server or a
database: what `contract/check` generates the TypeScript client from."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def test_the_document_is_printed_without_a_database() -> None:
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env["BOOKLNK_EMBEDDED_PG_DIR"] = "/nonexistent/never-started"  # a start would fail here
    done = subprocess.run(
        [sys.executable, "-m", "booklnk.cli", "openapi"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["openapi"].startswith("3.")
    assert "/v1/businesses/{business_id}/bookings" in document["paths"]
    assert {"Problem", "ProblemIssue"} <= set(document["components"]["schemas"])
