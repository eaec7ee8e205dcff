"""Booklnk's schema distributed on Citus (PostgreSQL sharded by business): which table
goes where, and the steps that put it there, resumable after a crash.

- Reference tables (a copy on every node): the platform's global tables that a tenant's
  statements join or check a foreign key against.
- The coordinator's own, added to Citus's metadata so that their foreign keys to
  reference tables hold: the messages outbox and its delivery records, whose one
  statement also writes the job queue.
- Every other table with a `business_id`: distributed by it, all in one colocation group,
  so a tenant's rows of every table live on one node and its statements run there whole.
- The job queue's tables (procrastinate's) and Alembic's stay plain local tables.

Citus turns every table a foreign key connects to a new reference table into a local one,
after which none can be colocated: the foreign keys between Booklnk's tables are taken
off first, kept in `booklnk_citus_pending_fk` in the same transaction, and put back once
every table is in place. A run stopped anywhere is finished by the next."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from booklnk.db.admin import execute_autocommit
from booklnk.db.rls import APP_ROLE

REFERENCE = (
    "business_type",
    "business",
    "app_user",
    "refresh_token",
    "login_throttle",
    "one_time_code",
    "payment_order",
    "webhook_delivery",
)
COORDINATOR = ("outbox_message", "message_attempt", "delivery_report")
DISTRIBUTION_COLUMN = "business_id"


@dataclass(frozen=True, slots=True)
class Placement:
    """Where each of the schema's tables goes."""

    reference: tuple[str, ...]
    coordinator: tuple[str, ...]
    distributed: tuple[str, ...]


def place(tables: Sequence[tuple[str, bool]]) -> Placement:
    """Each (table, has business_id) placed: the named reference and coordinator tables,
    every other with the distribution column distributed; the rest (the job queue's,
    Alembic's) left as they are."""
    names = {name for name, _ in tables}
    missing = [t for t in (*REFERENCE, *COORDINATOR) if t not in names]
    if missing:
        raise ValueError(f"tables named for Citus but not in the schema: {missing}")
    placed = set(REFERENCE) | set(COORDINATOR)
    distributed = tuple(sorted(name for name, tenant in tables if tenant and name not in placed))
    return Placement(REFERENCE, COORDINATOR, distributed)


_TABLES = text(
    "SELECT c.relname, EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid"
    " AND a.attname = :column AND NOT a.attisdropped)"
    " FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')"
    " ORDER BY 1"
)
_CITUS_TABLES = text("SELECT table_name::text, citus_table_type FROM citus_tables")
_PENDING = text(
    "CREATE TABLE IF NOT EXISTS booklnk_citus_pending_fk"
    " (table_name text NOT NULL, name text NOT NULL, definition text NOT NULL,"
    " PRIMARY KEY (table_name, name))"
)
# Foreign keys between Booklnk's tables (not the job queue's own) not yet taken off.
_OWN_FKS = text(
    "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
    " WHERE contype = 'f' AND connamespace = 'public'::regnamespace"
    " AND conrelid::regclass::text = ANY(:tables) ORDER BY 1, 2"
)


def node_urls(coordinator: str, workers: Sequence[str]) -> list[str]:
    """The coordinator's server URL, then each worker's ("host:port", reached as the
    coordinator's user)."""
    urls = [coordinator]
    for worker in workers:
        host, port = worker.rsplit(":", 1)
        urls.append(
            make_url(coordinator).set(host=host, port=int(port)).render_as_string(hide_password=False)
        )
    return urls


async def create_cluster_database(coordinator: str, workers: Sequence[str], name: str) -> str:
    """A new database `name` on the coordinator (a server URL) and on every worker, each
    with the citus extension, the coordinator told its own address and the workers'; its
    URL on the coordinator. Migrate it, then `distribute_database`. (Citus's metadata is
    per database: each one a cluster serves is set up so.)"""
    nodes = node_urls(coordinator, workers)
    for node in nodes:
        await execute_autocommit(node, f'CREATE DATABASE "{name}"')
        await execute_autocommit(_on(node, name), "CREATE EXTENSION citus")
    url = _on(coordinator, name)
    itself, *others = (make_url(node) for node in nodes)
    await execute_autocommit(
        url, f"SELECT citus_set_coordinator_host('{itself.host}', {itself.port or 5432})"
    )
    for worker in others:
        await execute_autocommit(url, f"SELECT citus_add_node('{worker.host}', {worker.port})")
    return url


async def drop_cluster_database(coordinator: str, workers: Sequence[str], name: str) -> None:
    """`name` dropped on every node, its connections closed."""
    for node in node_urls(coordinator, workers):
        await execute_autocommit(node, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _on(server: str, database: str) -> str:
    return make_url(server).set(database=database).render_as_string(hide_password=False)


async def distribute_database(url: str, tell: Callable[[str], None]) -> Placement:
    """`distribute` on the Citus coordinator at `url` (the command's and the benchmarks')."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(distribute, tell)
    finally:
        await engine.dispose()


def distribute(conn: Connection, tell: Callable[[str], None]) -> Placement:
    """Distribute the migrated schema on the Citus coordinator `conn` is connected to,
    each step in a transaction of its own. Tables already in place are left."""
    with conn.begin():
        if conn.execute(text("SELECT count(*) FROM pg_extension WHERE extname = 'citus'")).scalar_one() == 0:
            raise RuntimeError("This database has no citus extension: run CREATE EXTENSION citus first.")
        tables = conn.execute(_TABLES, {"column": DISTRIBUTION_COLUMN}).all()
        placement = place(tables)
        done: dict[str, str] = dict(conn.execute(_CITUS_TABLES).all())
        ours = [*placement.reference, *placement.coordinator, *placement.distributed]
        conn.execute(_PENDING)
        # Only while a table is still to place (a finished run leaves its keys alone),
        # one shard at a time: Citus refuses DDL after a parallel one in a transaction.
        conn.execute(text("SET LOCAL citus.multi_shard_modify_mode TO 'sequential'"))
        unplaced = [t for t in ours if t not in done]
        taken = conn.execute(_OWN_FKS, {"tables": ours}).all() if unplaced else []
        for table, name, definition in taken:
            conn.execute(_KEEP_FK, {"t": table, "n": name, "d": definition})
            conn.execute(text(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"'))
    if taken:
        tell(f"foreign keys taken off until every table is placed: {len(taken)}")
    anchor = placement.distributed[0]
    steps = [
        *(
            (t, "reference", "SELECT create_reference_table(CAST(:t AS regclass))")
            for t in placement.reference
        ),
        *(
            (t, "local", "SELECT citus_add_local_table_to_metadata(CAST(:t AS regclass))")
            for t in placement.coordinator
        ),
        *((t, "distributed", _DISTRIBUTED if t != anchor else _ANCHORED) for t in placement.distributed),
    ]
    for table, kind, statement in steps:
        if table in done:
            if done[table] != kind:
                raise RuntimeError(
                    f"{table} is already a {done[table]} table, not {kind}: distribute by hand"
                )
            continue
        with conn.begin():
            conn.execute(text(statement), {"t": table, "anchor": anchor, "column": DISTRIBUTION_COLUMN})
        tell(f"{kind}: {table}")
    with conn.begin():
        pending = conn.execute(
            text("SELECT table_name, name, definition FROM booklnk_citus_pending_fk")
        ).all()
    for table, name, definition in pending:
        with conn.begin():
            conn.execute(text(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}'))
            conn.execute(_PUT_BACK, {"t": table, "n": name})
    if pending:
        tell(f"foreign keys back: {len(pending)}")
    with conn.begin():
        conn.execute(text("DROP TABLE booklnk_citus_pending_fk"))
        database = conn.execute(text("SELECT quote_ident(current_database())")).scalar_one()
        # The context the app sets with SET LOCAL (migration 0032), replayed on the workers.
        conn.execute(text(f"ALTER DATABASE {database} SET citus.propagate_set_commands = 'local'"))
        # Hiding the shards from the catalog made asyncpg's first look at a type (an enum's,
        # once per connection) take 1.5-1.8 s instead of 0.13 s (bench/README, "Booklnk on
        # Citus"): the app's connections (booklnk-<pid>, booklnk-jobs-<pid>) see them.
        conn.execute(
            text(f"ALTER DATABASE {database} SET citus.show_shards_for_app_name_prefixes = 'booklnk'")
        )
        # The coordinator reaches the workers as the transaction's role: the app's. Each
        # worker alters its own role only: propagated, the workers' two ALTER ROLEs met on
        # each other's node and were cancelled as a distributed deadlock.
        answers = conn.execute(_WORKERS_LOGIN).all()
        refused = [f"{host}:{port}: {said}" for host, port, done_there, said in answers if not done_there]
        if refused:
            raise RuntimeError(f"{APP_ROLE} could not be let log in on the workers: {'; '.join(refused)}")
    tell(
        f"set on {database}: citus.propagate_set_commands = 'local',"
        f" citus.show_shards_for_app_name_prefixes = 'booklnk'; {APP_ROLE} may log in on the workers"
    )
    return placement


_WORKERS_LOGIN = text(
    "SELECT nodename, nodeport, success, result FROM run_command_on_workers("
    f"'SET LOCAL citus.enable_alter_role_propagation TO off; ALTER ROLE {APP_ROLE} LOGIN')"
)
_KEEP_FK = text("INSERT INTO booklnk_citus_pending_fk VALUES (:t, :n, :d) ON CONFLICT DO NOTHING")
_PUT_BACK = text("DELETE FROM booklnk_citus_pending_fk WHERE table_name = :t AND name = :n")
_ANCHORED = "SELECT create_distributed_table(CAST(:t AS regclass), :column)"
_DISTRIBUTED = "SELECT create_distributed_table(CAST(:t AS regclass), :column, colocate_with => :anchor)"
