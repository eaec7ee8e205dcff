"""Typed builders for tests: small functions that make one thing through the public API."""

from __future__ import annotations

import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import httpx
import jwt
import psycopg
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from answer_contract import AnswerContract
from booklnk.api.app import create_app
from booklnk.booking.lifecycle import INITIAL, TRANSITIONS
from booklnk.booking.models import BookingStatus
from booklnk.booking.repository import CREATED
from booklnk.bootstrap import load_business_types
from booklnk.config import Settings
from booklnk.db.database import Database
from booklnk.tenancy.credentials import issue_access_token

PASSWORD = "correct-horse-battery"


@dataclass(frozen=True)
class Account:
    user_id: uuid.UUID
    email: str
    headers: dict[str, str]
    refresh_token: str


class _Outbox:
    """The codes the app recorded, read over one plain (synchronous) connection: the tests
    run their clients on several event loops, which an async engine's connections cannot
    cross."""

    def __init__(self) -> None:
        self.url: str | None = None  # set by conftest's database_url
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None
        self._lock = threading.Lock()

    def code(self, email: str) -> str | None:
        assert self.url is not None, "the database_url fixture sets it"
        with self._lock:
            try:
                found = self._read(email)
            except psycopg.OperationalError:  # its server was restarted (an outage test)
                self._close()
                found = self._read(email)
        return None if found is None else str(found[0])

    def _read(self, email: str) -> tuple[object, ...] | None:
        if self._conn is None or self._conn.closed:
            assert self.url is not None
            self._conn = psycopg.connect(self.url, autocommit=True)
        return self._conn.execute(
            "SELECT params->>'code' FROM outbox_message WHERE lower(address) = lower(%s)"
            " AND params ? 'code' ORDER BY seq DESC LIMIT 1",
            (email,),
        ).fetchone()

    @contextmanager
    def reading(self, url: str) -> Iterator[None]:
        """Codes read from another database while the block runs (a test's own server)."""
        with self._lock:
            before, self.url = self.url, url
            self._close()
        try:
            yield
        finally:
            with self._lock:
                self.url = before
                self._close()

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


OUTBOX = _Outbox()


def earlier(column: str, by: str) -> str:
    """SQL for `column` (a timestamptz) moved back by the interval `by`, for a test that ages
    rows. The shift is made in UTC's wall time, every step immutable: Citus refuses a STABLE
    function of a column in an UPDATE, and `timestamptz - interval` is one."""
    return f"(({column} AT TIME ZONE 'UTC') - {by}) AT TIME ZONE 'UTC'"


async def code_sent_to(email: str) -> str:
    """The newest one-time code recorded for `email`, read from the outbox (as the worker
    would send it): signing up hundreds of users need not wait for e-mail."""
    code = OUTBOX.code(email)
    assert code is not None, f"no code was sent to {email}"
    return code


async def sign_up(client: httpx.AsyncClient, name: str = "user") -> Account:
    """Register, then prove the e-mail with the code it was sent: signed in."""
    email = f"{name}-{uuid.uuid4().hex[:8]}@example.com"
    registered = await client.post("/v1/auth/register", json={"email": email})
    assert registered.status_code == 202, registered.text
    proof = {
        "email": email,
        "code": await code_sent_to(email),
        "password": PASSWORD,
        "full_name": name.title(),
    }
    verified = await client.post("/v1/auth/register/verify", json=proof)
    assert verified.status_code == 201, verified.text
    tokens = verified.json()
    user_id = uuid.UUID(jwt.decode(tokens["access_token"], options={"verify_signature": False})["sub"])
    return Account(
        user_id, email, {"Authorization": f"Bearer {tokens['access_token']}"}, tokens["refresh_token"]
    )


async def prove_phone(client: httpx.AsyncClient, account: Account, phone: str) -> None:
    """Make `phone` the account's proven number, with the code it was sent by SMS."""
    asked = await client.post(
        "/v1/me/phone", json={"phone": phone, "channel": "sms"}, headers=account.headers
    )
    assert asked.status_code == 202, asked.text
    code = OUTBOX.code(phone)
    assert code is not None
    proven = await client.post(
        "/v1/me/phone/verify", json={"phone": phone, "code": code}, headers=account.headers
    )
    assert proven.status_code == 200, proven.text


async def log_in(client: httpx.AsyncClient, email: str, user_id: uuid.UUID) -> Account:
    response = await client.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    tokens = response.json()
    return Account(
        user_id, email, {"Authorization": f"Bearer {tokens['access_token']}"}, tokens["refresh_token"]
    )


async def sign_up_admin(client: httpx.AsyncClient, owner_engine: AsyncEngine) -> Account:
    """A platform admin: promoted in the database (as `booklnk create-admin` does), then
    logged in again so the token carries the claim."""
    account = await sign_up(client, "admin")
    async with owner_engine.begin() as conn:
        await conn.execute(
            text("UPDATE app_user SET is_platform_admin = true WHERE id = :id"), {"id": account.user_id}
        )
    return await log_in(client, account.email, account.user_id)


async def create_business(
    client: httpx.AsyncClient, owner: Account, business_type: str = "barbershop", **extra: object
) -> uuid.UUID:
    slug = f"biz-{uuid.uuid4().hex[:8]}"
    response = await client.post(
        "/v1/businesses",
        headers=owner.headers,
        json={"name": slug.title(), "slug": slug, "business_type": business_type, **extra},
    )
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["id"])


async def add_staff(
    client: httpx.AsyncClient, owner: Account, business_id: uuid.UUID, staff: Account
) -> None:
    invited = await client.post(
        f"/v1/businesses/{business_id}/invitations",
        headers=owner.headers,
        json={"email": staff.email, "role": "staff"},
    )
    assert invited.status_code == 201, invited.text
    accepted = await client.post(
        f"/v1/businesses/{business_id}/invitations/accept",
        headers=staff.headers,
        json={"token": invited.json()["token"]},
    )
    assert accepted.status_code == 200, accepted.text


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


def stranger_headers(settings: Settings, clock: FakeClock) -> dict[str, str]:
    """A valid bearer token of an account never made: for requests that must be answered
    before any account is read (no database, no connection)."""
    token = issue_access_token(
        secret=settings.jwt_secret.get_secret_value(),
        user_id=uuid.uuid4(),
        is_platform_admin=False,
        now=clock.now(),
        ttl=timedelta(minutes=15),
    )
    return {"Authorization": f"Bearer {token}"}


class JobRunner(Protocol):
    """The `run_jobs` fixture: runs the real worker until no job is due."""

    def __call__(self, *, sweep: bool = False) -> Awaitable[None]: ...


@asynccontextmanager
async def in_process_api(
    database_url: str, settings: Settings, now: datetime | FakeClock
) -> AsyncIterator[tuple[httpx.AsyncClient, Database]]:
    """The app on a pool of its own, its clock stopped at `now` (or the given clock, for
    the caller to move): one per hypothesis example (function-scoped fixtures are not set
    up again between examples)."""
    db = Database(database_url, app_role=settings.db_app_role, pool_size=2)
    clock = now if isinstance(now, FakeClock) else FakeClock(now)
    try:
        await load_business_types(db, settings)
        app = AnswerContract(create_app(settings, db, clock=clock))
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client, db
        assert app.broken == [], "answers that break the OpenAPI document"
    finally:
        await db.dispose()


async def audit_status_changes(engine: AsyncEngine) -> None:
    """Every status change recorded is an edge of the state graph (`lifecycle.TRANSITIONS`)
    or a booking's birth in a status it may be born in, and every booking's status is the
    one its latest recorded change left it in: no code path changed a status off the graph
    or without recording it."""
    async with engine.connect() as conn:
        changes = (
            await conn.execute(
                text("SELECT DISTINCT from_status::text, action, to_status::text FROM booking_status_change")
            )
        ).all()
        unexplained = (
            await conn.execute(
                text(
                    "SELECT b.id, b.status FROM booking b WHERE b.status IS DISTINCT FROM"
                    " (SELECT c.to_status FROM booking_status_change c"
                    "  WHERE c.business_id = b.business_id AND c.booking_id = b.id"
                    "  ORDER BY c.id DESC LIMIT 1)"
                )
            )
        ).all()
    off_graph = [
        (before, action, after) for before, action, after in changes if not _on_graph(before, action, after)
    ]
    assert off_graph == [], "status changes off the graph"
    assert unexplained == [], "bookings whose status no recorded change explains"


def _on_graph(before: str | None, action: str, after: str) -> bool:
    if before is None:
        return action == CREATED and BookingStatus(after) in INITIAL
    edges = {(status.value, act.value): to.value for (status, act), to in TRANSITIONS.items()}
    return edges.get((before, action)) == after


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """The SQL statements the app's pool sends while the block runs."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(str(args[2]))

    engine = db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
