"""The web app's weight and speed on a slow phone connection, and its screenshots.

Starts `booklnk serve` (two processes) on a fresh database with the demo, then opens the
main pages in Debian's Chromium (Playwright) with an empty cache on Chrome DevTools' "Slow
3G" profile (2 s round trip, 50 kB/s each way) and a 360 px phone screen, and prints per
page: what crossed the network (compressed: HTML, CSS, JS; no images or fonts are used),
the requests made, and the times to DOMContentLoaded and to load. A customer's pages are
read signed out, then signed in as the demo customer; the front desk's as its owner.

    python3 -m uv run python bench/web.py                        # the table
    python3 -m uv run python bench/web.py --screenshots docs/screenshots   # and the gallery

With `--screenshots DIR` it also writes each page in Arabic and English at phone and
desktop widths as PNG files (the README's gallery), unthrottled.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Browser, BrowserContext, Page, async_playwright
from sqlalchemy import make_url

from booklnk.bootstrap import asyncpg_url
from booklnk.db.admin import execute_autocommit
from booklnk.db.embedded import embedded_database_url
from booklnk.db.migrate import upgrade_async
from booklnk.demo.loader import DEMO_PASSWORD

from benchlib.output import RESULTS_DIR, log
from benchlib.processes import free_port, server_env, start_server, stop_server, wait_ready

# Chrome DevTools' "Slow 3G" preset, as its source defines it.
SLOW_3G = {"offline": False, "latency": 2000, "downloadThroughput": 50_000, "uploadThroughput": 50_000}
PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True}
DESKTOP = {"viewport": {"width": 1280, "height": 860}}


@dataclass
class Measured:
    page: str
    language: str
    bytes_transferred: int
    requests: int
    dom_content_loaded_ms: float
    load_ms: float


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--screenshots", type=Path, help="write the gallery's PNG files here")
    args = parser.parse_args()
    chromium = os.environ.get("BOOKLNK_CHROMIUM") or shutil.which("chromium")
    if chromium is None:
        sys.exit("no Chromium: install Debian's chromium package")
    server_url = (
        asyncpg_url(os.environ["DATABASE_URL"])
        if "DATABASE_URL" in os.environ
        else (embedded_database_url(Path(".booklnk/pgdata")))
    )
    name = f"booklnk_bench_web_{uuid.uuid4().hex[:8]}"
    bench_url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    await execute_autocommit(server_url, f'CREATE DATABASE "{name}"')
    logs = Path(tempfile.mkdtemp(prefix="bench-web-"))
    try:
        await upgrade_async(bench_url)
        env = {**server_env(bench_url), "BOOKLNK_PUBLIC_READS_PER_MINUTE": "100000"}
        demo = [sys.executable, "-m", "booklnk.cli", "demo"]
        await asyncio.to_thread(subprocess.run, demo, env=env, check=True, capture_output=True)
        port = free_port()
        env["BOOKLNK_PUBLIC_BASE_URL"] = f"http://127.0.0.1:{port}"
        server = start_server(
            "api",
            [sys.executable, "-m", "booklnk.cli", "serve", "--workers", "2", "--port", str(port)],
            env,
            logs,
            port,
        )
        try:
            wait_ready(server)
            log(f"serving the demo at {server.base_url}")
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
                tour = await Tour.prepare(server.base_url)
                measured = [m for language in ("ar", "en") for m in await tour.measure(browser, language)]
                if args.screenshots:
                    await tour.shoot(browser, args.screenshots)
                await browser.close()
        finally:
            stop_server(server)
    finally:
        await execute_autocommit(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(logs, ignore_errors=True)
    report(measured)


@dataclass
class Tour:
    """The pages visited, found on the demo: public ones, then the customer's and the desk's."""

    base: str
    customer_tokens: dict[str, Any]
    owner_tokens: dict[str, Any]
    desk: str
    booking: str

    @classmethod
    async def prepare(cls, base: str) -> Tour:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            tokens = []
            for email in ("customer@booklnk.demo", "owner@cairo-cuts.demo"):
                answer = await http.post("/v1/auth/login", json={"email": email, "password": DEMO_PASSWORD})
                answer.raise_for_status()
                tokens.append(answer.json())
            me = await http.get("/v1/me", headers={"Authorization": f"Bearer {tokens[1]['access_token']}"})
            business_id = next(m["business_id"] for m in me.json()["memberships"])
            booked = await _book_the_next_times(http, tokens[0]["access_token"], business_id)
        day = booked[0]["starts_at_local"][:10]
        return cls(
            base,
            tokens[0],
            tokens[1],
            f"/desk/{business_id}?on={day}",
            f"/my/{business_id}/{booked[0]['id']}",
        )

    async def pages(self, page: Page, language: str) -> list[tuple[str, str]]:
        """(name, path) in order; the booking's own pages are found by walking the flow."""
        base = f"{self.base}/{language}"
        await page.goto(f"{base}/b/cairo-cuts")
        times = await page.locator("a.button[href*='/s/']").first.get_attribute("href")
        await page.goto(f"{self.base}{times}")
        summary = await page.locator(".times a").first.get_attribute("href")
        desk = self.desk.split("?")[0]
        return [
            ("home", f"/{language}/"),
            ("business page", f"/{language}/b/cairo-cuts"),
            ("time picker", str(times)),
            ("sign-in", f"/{language}/sign-in"),
            ("booking summary (signed in)", str(summary)),
            ("booking status (signed in)", f"/{language}{self.booking}"),
            ("my bookings (signed in)", f"/{language}/my"),
            ("receipt (signed in)", f"/{language}{self.booking}/receipt"),
            ("front desk day (owner)", f"/{language}{self.desk}"),
            ("front desk week (owner)", f"/{language}{desk}/week"),
            ("setup (owner)", f"/{language}{desk}/setup"),
            ("hours settings (owner)", f"/{language}{desk}/settings/hours"),
            ("rules settings (owner)", f"/{language}{desk}/settings/rules"),
        ]

    async def person(
        self, browser: Browser, shape: dict[str, Any], tokens: dict[str, Any] | None
    ) -> BrowserContext:
        context = await browser.new_context(**shape)
        if tokens is not None:
            await context.add_cookies(
                [
                    {"name": "bl_access", "value": tokens["access_token"], "url": self.base},
                    {"name": "bl_refresh", "value": tokens["refresh_token"], "url": self.base},
                ]
            )
        return context

    def tokens_for(self, name: str) -> dict[str, Any] | None:
        if "owner" in name:
            return self.owner_tokens
        return self.customer_tokens if "signed in" in name else None

    async def measure(self, browser: Browser, language: str) -> list[Measured]:
        scout = await self.person(browser, DESKTOP, None)
        visits = await self.pages(await scout.new_page(), language)
        await scout.close()
        found = []
        for name, path in visits:
            context = await self.person(browser, PHONE, self.tokens_for(name))
            page = await context.new_page()
            cdp = await context.new_cdp_session(page)
            await cdp.send("Network.enable")
            await cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
            await cdp.send("Network.emulateNetworkConditions", SLOW_3G)
            sizes: dict[str, float] = {}
            cdp.on(
                "Network.loadingFinished",
                lambda e, sizes=sizes: sizes.__setitem__(e["requestId"], e["encodedDataLength"]),
            )
            await page.goto(f"{self.base}{path}", wait_until="load", timeout=120_000)
            timing = json.loads(
                await page.evaluate("JSON.stringify(performance.getEntriesByType('navigation')[0])")
            )
            found.append(
                Measured(
                    name,
                    language,
                    int(sum(sizes.values())),
                    len(sizes),
                    round(timing["domContentLoadedEventEnd"], 1),
                    round(timing["loadEventEnd"], 1),
                )
            )
            log(f"{language} {name}: {found[-1].bytes_transferred} B, load {found[-1].load_ms} ms")
            await context.close()
        return found

    async def shoot(self, browser: Browser, folder: Path) -> None:
        await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
        for language in ("ar", "en"):
            scout = await self.person(browser, DESKTOP, None)
            visits = await self.pages(await scout.new_page(), language)
            await scout.close()
            for name, path in visits:
                for shape_name, shape in (("phone", PHONE), ("desktop", DESKTOP)):
                    context = await self.person(browser, shape, self.tokens_for(name))
                    page = await context.new_page()
                    await page.goto(f"{self.base}{path}", wait_until="load")
                    slug = name.split(" (")[0].replace(" ", "-")
                    await page.screenshot(
                        path=folder / f"{slug}.{language}.{shape_name}.png", full_page=False
                    )
                    await context.close()
            log(f"screenshots in {language} written to {folder}")


async def _book_the_next_times(http: httpx.AsyncClient, token: str, business_id: str) -> list[dict[str, Any]]:
    """The demo customer books the first free time of each of the barbershop's services (the
    desk's day then has bookings to show)."""
    headers = {"Authorization": f"Bearer {token}"}
    services = (await http.get("/v1/public/businesses/cairo-cuts/services")).json()["items"]
    now = datetime.now(UTC)
    booked = []
    for service in services:
        window = {
            "service_id": service["id"],
            "from": now.isoformat(),
            "to": (now + timedelta(days=7)).isoformat(),
        }
        slots = (await http.get("/v1/public/businesses/cairo-cuts/availability", params=window)).json()[
            "slots"
        ]
        if not slots:
            continue
        answer = await http.post(
            f"/v1/businesses/{business_id}/bookings",
            headers=headers,
            json={
                "service_id": service["id"],
                "starts_at": slots[min(len(booked) * 3, len(slots) - 1)]["starts_at"],
            },
        )
        answer.raise_for_status()
        booked.append(answer.json())
    return booked


def report(measured: list[Measured]) -> None:
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "web.json").write_text(json.dumps([asdict(m) for m in measured], indent=2))
    print("| page | language | transferred (compressed) | requests | DOMContentLoaded | load |")
    print("|---|---|---:|---:|---:|---:|")
    for m in measured:
        print(
            f"| {m.page} | {m.language} | {m.bytes_transferred / 1024:.1f} KiB | {m.requests} |"
            f" {m.dom_content_loaded_ms / 1000:.2f} s | {m.load_ms / 1000:.2f} s |"
        )
    print("\nFirst load, empty cache, Chrome DevTools' Slow 3G (2 s RTT, 50 kB/s), 360 px phone screen.")


if __name__ == "__main__":
    asyncio.run(main())
