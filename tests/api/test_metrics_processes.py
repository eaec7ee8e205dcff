"""With `serve --workers 2`, a scrape of /metrics counts every server process's requests,
whichever process answers it. Before, each scrape returned the numbers of the one process
that answered: counters went backwards from one scrape to the next."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from race_support import free_port, server_env

pytestmark = pytest.mark.live  # starts `booklnk serve --workers 2`

TOKEN = "metrics-token-for-the-scraper-0123"
REQUESTS = 40
_HEALTHZ = re.compile(r'booklnk_http_requests_total\{[^}]*route="/healthz"[^}]*status="200"[^}]*\} (\S+)')


def test_every_scrape_counts_both_processes_requests(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = {**server_env(database_url), "BOOKLNK_METRICS_TOKEN": TOKEN}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    command = [sys.executable, "-m", "booklnk.cli", "serve", "--workers", "2", "--port", str(port)]
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while log.read_text(errors="replace").count("Application startup complete") < 2:
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.3)
        for _ in range(REQUESTS):  # a connection each: the two processes share them out
            assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
        seen = []
        for _ in range(8):
            scraped = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
            assert scraped.status_code == 200, scraped.text
            found = _HEALTHZ.search(scraped.text)
            seen.append(float(found.group(1)) if found else 0.0)
        assert min(seen) >= REQUESTS, seen
    finally:
        server.terminate()
        server.wait(timeout=30)
