"""The web app in a real browser: Debian's Chromium driven by Playwright, against
`booklnk serve` (two processes) and a `booklnk worker` on the test database loaded with
the demo, paying on the Kashier simulator's hosted page. Without a Chromium on the
machine these tests are skipped, saying why (`.ci/run` installs it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator

import pytest
from playwright.async_api import Browser, async_playwright

from booklnk.payments.kashier.simulator import ServerThread, SimulatorSettings, create_app
from race_support import LiveServer, running_job_workers, running_server, server_env

MID = "MID-web-1"
API_KEY = "web-payment-api-key"
SECRET_KEY = "web-secret-key"
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def chromium_path() -> str | None:
    """Where the browser is: BOOKLNK_CHROMIUM, else Debian's package on the PATH."""
    if named := os.environ.get("BOOKLNK_CHROMIUM"):
        return named
    return next((found for name in CHROMIUM_CANDIDATES if (found := shutil.which(name))), None)


@pytest.fixture(scope="module")
def kashier_sim() -> Iterator[str]:
    settings = SimulatorSettings(
        mid=MID, api_key=API_KEY, secret_key=SECRET_KEY, retry_delays=(0.05, 0.1, 0.2), delivery_timeout=2
    )
    with ServerThread(create_app(settings)) as server:
        yield server.url


@pytest.fixture(scope="module")
def site(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, kashier_sim: str
) -> Iterator[LiveServer]:
    """The service with its worker, on the demo's businesses and accounts."""
    env = {
        "BOOKLNK_KASHIER_MID": MID,
        "BOOKLNK_KASHIER_API_KEY": API_KEY,
        "BOOKLNK_KASHIER_SECRET_KEY": SECRET_KEY,
        "BOOKLNK_KASHIER_HPP_URL": kashier_sim,
        "BOOKLNK_KASHIER_API_URL": kashier_sim,
        "BOOKLNK_KASHIER_FEP_URL": kashier_sim,
    }
    loaded = subprocess.run(
        [sys.executable, "-m", "booklnk.cli", "demo"],
        env={**server_env(database_url), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert loaded.returncode == 0, loaded.stderr
    with (
        running_server(database_url, tmp_path_factory, env) as server,
        running_job_workers(database_url, tmp_path_factory.mktemp("web-worker"), 1, env),
    ):
        yield server


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    path = chromium_path()
    if path is None:
        # CI installs Chromium and sets BOOKLNK_REQUIRE_BROWSER: there a missing browser is a
        # failure, never a quiet skip; elsewhere the tests skip, saying what to install.
        if os.environ.get("BOOKLNK_REQUIRE_BROWSER"):
            pytest.fail("BOOKLNK_REQUIRE_BROWSER is set but no Chromium was found (BOOKLNK_CHROMIUM or PATH)")
        pytest.skip("no Chromium on this machine: install Debian's `chromium` package (.ci/run does)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield launched
        await launched.close()
