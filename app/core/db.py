"""Engine, sessions and the column types every model shares.

Sessions are opened *inside* the service call, never yielded from a FastAPI dependency: a
yielded session in a sync route holds its pooled connection until a second thread-pool hop
runs the cleanup, and with a small thread pool the two pools deadlock (measured in issue 10).
`read()` and `write()` keep the connection's whole life inside one thread.

The hottest reads (a hazard, a page of the register) do not use sessions or the thread pool:
`hot_read()` runs them on a few reader threads that each own one autocommit connection.
"""

import asyncio
import contextvars
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache, partial
from typing import Any, TypeVar

from anyio import to_thread
from sqlalchemy import (
    BigInteger,
    Connection,
    DateTime,
    Engine,
    Enum,
    Integer,
    create_engine,
    event,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, SQLModel

from app.core import checkpoints
from app.core.config import get_settings
from app.core.memo import Memo

# Explicit, stable constraint names so migrations can alter them on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite has no timezone type, so values go in as naive UTC and come back tagged UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        # Every read of every timestamp passes here (a list page: ~500 values), so the hot
        # dialects get one tight function instead of the generic two-step wrapper.
        if dialect.name == "postgresql":
            return None  # timestamptz: psycopg already returns aware datetimes
        if dialect.name == "sqlite":
            return _sqlite_utc
        return super().result_processor(dialect, coltype)


_fromisoformat = datetime.fromisoformat


def _sqlite_utc(value: str | None) -> datetime | None:
    """A naive UTC timestamp as SQLAlchemy stores it on SQLite, read back tagged UTC."""
    if value is None:
        return None
    parsed = _fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


# Ids of append-heavy tables (audit, events, hazards) outgrow 32 bits in a province; SQLite
# needs plain INTEGER for its rowid alias.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def enum_type(enum_cls: type[StrEnum]) -> Enum:
    """A status or category column: plain VARCHAR holding the code, read back as the enum.

    Not a native PostgreSQL ENUM: adding a code later then needs no migration.
    """
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=40,
        values_callable=lambda cls: [m.value for m in cls],
    )


def normalize_url(url: str) -> str:
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


# Pages of 8 KiB rather than SQLite's 4 KiB: a hazard row is ~450 bytes, so a page holds
# twice the rows and a B-tree has fewer levels and fewer pages to write back. On the 1M bench
# (same runs, 4 / 8 / 16 KiB): a 100,000-row import 2.27 / 2.00-2.13 / 1.86-2.04 s, the
# xlsx export 2.71 / 2.39-2.47 / 2.42-2.57 s, get-by-id 9.6 / 10.1-11.2 / 10.8 % of the bare
# limit; registrations 3.8 / 3.5-4.1 / 3.1-3.8 % and the list 1.4 / 1.5-1.7 / 1.3-1.4 % —
# larger pages cost the random single-row writes and the page walks. A database keeps the
# page size it was created with (docs/production.md says how to convert one).
SQLITE_PAGE_SIZE = 8192


def _make_engine(url: str) -> Engine:
    settings = get_settings()
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_pool_size,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy's "begin" hook choose BEGIN vs BEGIN IMMEDIATE.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            # Takes effect only on a new, empty database, so before WAL: see SQLITE_PAGE_SIZE.
            cur.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # A writer takes the write lock up front: a deferred transaction that later
            # upgrades can fail with SQLITE_BUSY without waiting for busy_timeout.
            immediate = conn.get_execution_options().get("sqlite_immediate")
            # While the server's thread runs the WAL checkpoints, commits do not
            # (app/core/checkpoints.py); told to each connection once.
            threshold = 0 if checkpoints.enabled() else checkpoints.SQLITE_DEFAULT
            if conn.info.get("wal_autocheckpoint", checkpoints.SQLITE_DEFAULT) != threshold:
                conn.exec_driver_sql(f"PRAGMA wal_autocheckpoint={threshold}")
                conn.info["wal_autocheckpoint"] = threshold
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return create_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_pre_ping=True,
    )


def configure_threads() -> None:
    """Tie the thread pool to the connection pool; call once from the app's lifespan (it
    needs the running event loop).

    Sync routes and `run_in_threadpool` run on AnyIO's default limiter (40 threads unless
    told otherwise). It gets exactly `db_pool_size` threads, and the engine `db_pool_size`
    connections plus as many again as overflow, so:

    * a thread never blocks in the pool's checkout: requests beyond the pool queue on the
      limiter, holding neither a thread nor a connection;
    * a unit of work that opens a second connection while holding its first (a read inside
      a write) finds one even when every thread does so at once, so it can never wait on a
      connection held by a thread that is itself waiting (the deadlock of issue 10).
    """
    to_thread.current_default_thread_limiter().total_tokens = get_settings().db_pool_size


@lru_cache
def get_engine() -> Engine:
    return _make_engine(get_settings().database_url)


def dispose_engine() -> None:
    global _readers
    if _readers is not None:
        _readers.close()
        _readers = None
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()


@contextmanager
def read() -> Iterator[Session]:
    """A short read-only unit of work (inside a unit of the SQLite group writer, the
    group's transaction, so it sees what the units before it wrote)."""
    grouped = _group.session
    if grouped is not None:
        yield grouped
        return
    with Session(get_engine(), expire_on_commit=False) as session:
        yield session


# ------------------------------------------------------------------------------------------
# Hot reads

T = TypeVar("T")
# A unit of work queued for a thread: (its loop, its future, the request's context, fn, args).
_Job = tuple[
    asyncio.AbstractEventLoop,
    "asyncio.Future[Any]",
    contextvars.Context,
    Callable[..., Any],
    tuple[Any, ...],
]


def _read_engine(url: str, threads: int) -> Engine:
    """Connections that only read, each statement on the latest committed data.

    Autocommit: a read of one statement needs no BEGIN and no ROLLBACK round trip. No engine
    events: SQLAlchemy dispatches every engine event on every execute. Read-only at the
    database, so a bug can never write through them."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=threads,
            max_overflow=0,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_reader(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # the driver sends no BEGIN either
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA query_only=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    engine = create_engine(
        url, isolation_level="AUTOCOMMIT", pool_size=threads, max_overflow=0, pool_pre_ping=True
    )

    @event.listens_for(engine, "connect")
    def _pg_reader(dbapi_conn: Any, _record: Any) -> None:
        with dbapi_conn.cursor() as cur:
            cur.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")

    return engine


class _Readers:
    """A few threads, each holding one read connection for its whole life, taking the queued
    reads in batches.

    Compared with a sync route (AnyIO's thread pool, a pooled connection per call): no pool
    checkout and return, no capacity limiter, no transaction. Compared with one hand-off per
    read (an executor): the reads that queued while a thread was busy or waking are taken
    together, and their results reach the event loop in one wake-up. Each hand-off is a
    thread wake-up and GIL hand-offs both ways, on the loop's own core when the worker is
    pinned; under load most reads then share one. It cannot deadlock: a reader needs
    exactly one connection, its own, and the engine holds one per thread."""

    # Reads one thread takes at a time: a long batch makes its last read wait for the others
    # (on PostgreSQL, a round trip each); what is left wakes another thread.
    BATCH = 8

    def __init__(self, url: str, threads: int) -> None:
        self.engine = _read_engine(url, threads)
        self.size = threads
        self.jobs: deque[_Job] = deque()
        self.wakeup = threading.Condition()
        self.waiting = 0  # threads waiting for reads
        self.woken = 0  # of those, woken and not yet running: each will take a batch
        self.closed = False
        self.threads: list[threading.Thread] = []

    def submit(self, fn: Callable[..., T], args: tuple[Any, ...]) -> "asyncio.Future[T]":
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        job = (loop, future, contextvars.copy_context(), fn, args)
        with self.wakeup:
            if self.closed:
                raise RuntimeError("the database readers are closed")
            self.jobs.append(job)
            self._wake()
        return future

    def _wake(self) -> None:
        """Wake a waiting thread if the queued reads are more than those woken will take
        (called holding `wakeup`)."""
        if self.waiting > self.woken and len(self.jobs) > self.woken * self.BATCH:
            self.woken += 1
            self.wakeup.notify()
        elif not self.waiting and len(self.threads) < self.size:
            thread = threading.Thread(target=self._serve, name="db-read", daemon=True)
            self.threads.append(thread)
            thread.start()

    def _serve(self) -> None:
        connection: Connection | None = None
        try:
            while True:
                with self.wakeup:
                    while not self.jobs and not self.closed:
                        self.waiting += 1
                        self.wakeup.wait()
                        self.waiting -= 1
                        self.woken = max(self.woken - 1, 0)
                    if not self.jobs:  # closed, and nothing left to read
                        return
                    batch = [self.jobs.popleft() for _ in range(min(len(self.jobs), self.BATCH))]
                    if self.jobs:
                        self._wake()
                outcomes = []
                for job in batch:
                    connection, outcome = self._run(connection, job)
                    outcomes.append(outcome)
                _deliver_all(batch, outcomes)
        finally:
            if connection is not None:
                connection.close()

    def _run(
        self, connection: Connection | None, job: _Job
    ) -> tuple[Connection | None, tuple[Any, BaseException | None]]:
        """One read on this thread's connection (opened on first use, replaced when the
        server dropped it: one retry on a new one; any other error is the caller's)."""
        _, future, context, fn, args = job
        if future.cancelled():  # the client went away while it queued
            return connection, (None, None)
        for attempt in range(2):
            try:
                if connection is None or connection.closed or connection.invalidated:
                    connection = self.engine.connect()
                return connection, (context.run(fn, connection, *args), None)
            except DBAPIError as exc:
                if not exc.connection_invalidated or attempt or connection is None:
                    return connection, (None, exc)
                connection.close()
            except BaseException as exc:  # handed to the awaiting route
                return connection, (None, exc)
        raise AssertionError("unreachable")

    def close(self) -> None:
        with self.wakeup:
            self.closed = True
            self.wakeup.notify_all()
        for thread in self.threads:
            thread.join()
        self.engine.dispose()


_readers: _Readers | None = None
_readers_lock = threading.Lock()


def _get_readers() -> _Readers:
    global _readers
    if _readers is None:
        with _readers_lock:
            if _readers is None:
                settings = get_settings()
                _readers = _Readers(settings.database_url, settings.db_read_threads)
    return _readers


class Prepared:
    """A statement run straight on the DBAPI cursor: SELECTs on the hot reads, and the
    INSERTs and UPDATEs every write repeats (its audit row, event, timeline step, counters).

    SQLAlchemy's execute path (execution context, events, Row objects) cost more than SQLite
    itself on a get-by-id: 67 of 92 µs (measured, 1M hazards), and ~35 µs for each of the
    nine statements of a registration. Here the statement is compiled once per dialect (an
    INSERT or UPDATE once per set of parameter names: the columns it sets), with the order of
    its parameters, their bind processors and the result processors of its columns; a call
    binds, executes and converts only. Rows come back as lists in the order of the
    statement's columns (or its RETURNING), codes (enum columns) as the strings stored.
    Errors are raised as SQLAlchemy's (an `IntegrityError` as one), with
    `connection_invalidated` set when the server dropped the connection.

    An INSERT or UPDATE must be given every value it sets: column defaults computed in
    Python are refused when it is compiled.

    Keep a Prepared as long as its statement (memoised alongside it), never by `id()`."""

    __slots__ = ("_by_dialect", "dml", "statement")

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self.dml = bool(statement.is_dml)
        self._by_dialect: dict[Any, _Compiled] = {}

    def _compiled(self, dialect: Dialect, params: dict[str, Any]) -> "_Compiled":
        key: Any = (dialect.name, frozenset(params)) if self.dml else dialect.name
        compiled = self._by_dialect.get(key)
        if compiled is None:
            compiled = self._by_dialect[key] = _Compiled(self.statement, dialect, params)
        return compiled

    def all(self, conn: Connection, params: dict[str, Any]) -> list[list[Any]]:
        return self._compiled(conn.dialect, params).run(conn, params, one=False)

    def first(self, conn: Connection, params: dict[str, Any]) -> list[Any] | None:
        rows = self._compiled(conn.dialect, params).run(conn, params, one=True)
        return rows[0] if rows else None

    def execute(self, conn: Connection, params: dict[str, Any]) -> None:
        """An INSERT or UPDATE without RETURNING."""
        self._compiled(conn.dialect, params).run(conn, params, one=False)


# An expanded statement: its text, the parameters of the list items, their order (qmark).
_Expansion = tuple[str, dict[str, Any], Any]


class _Compiled:
    __slots__ = (
        "binds",
        "compiled",
        "defaults",
        "dialect",
        "expanding",
        "expansions",
        "names",
        "processors",
        "types",
    )

    def __init__(self, statement: Any, dialect: Dialect, params: dict[str, Any]) -> None:
        # An INSERT sets the columns it is given values for, not every column of the table.
        keys = list(params) if statement.is_dml else None
        compiled = statement.compile(dialect=dialect, column_keys=keys)
        if compiled.insert_prefetch or compiled.update_prefetch:
            missing = [c.key for c in (*compiled.insert_prefetch, *compiled.update_prefetch)]
            raise TypeError(f"values computed by column defaults in Python: pass {missing}")
        self.compiled = compiled
        self.dialect = dialect
        # Values fixed in the statement (the caller's org in a visibility rule).
        self.defaults = {
            k: v for k, v in compiled.construct_params(params).items() if k not in params
        }
        self.binds = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect)
            for name, bind in compiled.binds.items()
        }
        # The parameter names (as the statement's parameters are keyed) of its lists.
        self.expanding = tuple(
            compiled.bind_names[bind] for bind in compiled.binds.values() if bind.expanding
        )
        # Expanded statements by the lists they were expanded for (see `_expand`).
        self.expansions: Memo[tuple[Any, ...], _Expansion] = Memo(self.EXPANSIONS)
        self.names = compiled.positiontup if compiled.positional else None
        # A SELECT's columns, or what an INSERT or UPDATE returns: its RETURNING, or on
        # PostgreSQL the primary key SQLAlchemy asks back from a single-row INSERT.
        columns = (
            (compiled.effective_returning or []) if statement.is_dml else statement.selected_columns
        )
        self.types = [column.type.dialect_impl(dialect) for column in columns]
        # Built on the first run: some drivers' processors depend on the type codes in
        # `cursor.description` (psycopg's numerics).
        self.processors: list[tuple[int, Any]] | None = None

    # Lists of at most this many items in all are expanded once per distinct set of lists
    # (a page's status filter repeats, a page's ids do not), for this many sets at a time.
    EXPAND_ONCE, EXPANSIONS = 16, 64

    def _expand(self, values: dict[str, Any]) -> _Expansion:
        """The statement with one placeholder per list item, its parameters and their order.

        SQLAlchemy's expansion cost ~15 µs a call (a register page filtered by status); the
        same lists give the same statement and the same item parameters, so those are kept
        and this call's other values put beside them."""

        def expansion() -> _Expansion:
            state = self.compiled.construct_expanded_state(values)
            items = {k: v for k, v in state.parameters.items() if k not in values}
            return state.statement, items, state.positiontup if self.names is not None else None

        lists = tuple(tuple(values[name]) for name in self.expanding)
        if sum(map(len, lists)) <= self.EXPAND_ONCE:
            sql, items, order = self.expansions.get(lists, expansion)
        else:
            sql, items, order = expansion()
        expanded = {k: v for k, v in values.items() if k not in self.expanding}
        expanded.update(items)
        return sql, expanded, order

    def run(self, conn: Connection, params: dict[str, Any], *, one: bool) -> list[list[Any]]:
        values = {**self.defaults, **params}
        sql, names = self.compiled.string, self.names
        if self.expanding:  # `IN (…)` with a list: one placeholder per item
            sql, values, names = self._expand(values)
        binds = self.binds
        for name, value in values.items():
            process = binds.get(name)
            if process is not None and value is not None:
                values[name] = process(value)
        args: Any = [values[n] for n in names] if names is not None else values
        dbapi_conn = conn.connection.dbapi_connection
        assert dbapi_conn is not None
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute(sql, args)
            if cursor.description is None:  # an INSERT or UPDATE without RETURNING
                return []
            raw = [cursor.fetchone()] if one else cursor.fetchall()
            processors = self.processors
            if processors is None:  # (column index, processor) of the columns that have one
                processors = self.processors = [
                    (i, process)
                    for i, (t, d) in enumerate(zip(self.types, cursor.description, strict=True))
                    # Codes stay the strings they are stored as: a StrEnum member equals,
                    # hashes and serialises as its code, and converting them was an eighth of
                    # a register page (profiled, 1M hazards).
                    if not isinstance(t, Enum)
                    and (process := t.result_processor(self.dialect, d[1])) is not None
                ]
        except self.dialect.loaded_dbapi.Error as exc:
            dropped = self.dialect.is_disconnect(exc, dbapi_conn, cursor)
            if dropped:
                conn.invalidate(exc)
            raise DBAPIError.instance(
                sql, args, exc, self.dialect.loaded_dbapi.Error, connection_invalidated=dropped
            ) from exc
        finally:
            cursor.close()
        rows: list[list[Any]] = []
        for row in raw:
            if row is None:
                continue
            converted = list(row)
            for i, process in processors:
                value = converted[i]
                if value is not None:
                    converted[i] = process(value)
            rows.append(converted)
        return rows


async def hot_read(fn: Callable[..., T], *args: Any) -> T:
    """`fn(connection, *args)` on a reader thread, for `async def` routes on hot paths.

    `fn` runs one or a few statements and shapes the rows; nothing it does may write."""
    return await _get_readers().submit(fn, args)


# SQLite admits one writer at a time. Threads of this process queue on a lock instead of on
# SQLite's busy handler, which polls with growing sleeps: with 32 writer threads registering
# hazards this gave 15–25 % more writes per second. Other processes still meet busy_timeout.
# Not re-entrant, deliberately: a write opened inside another write would deadlock on SQLite's
# own lock anyway; here it fails after 30 s with a clear error.
_sqlite_writer = threading.Lock()


@contextmanager
def _writer_slot(engine: Engine) -> Iterator[None]:
    if engine.dialect.name != "sqlite":
        yield
        return
    if not _sqlite_writer.acquire(timeout=30):
        raise TimeoutError("timed out waiting for the SQLite write lock")
    try:
        yield
    finally:
        _sqlite_writer.release()


class _GroupWriter:
    """SQLite's writes, run one after another on one thread of their own, the ones queued
    together committed together (group commit).

    One thread: SQLite admits one writer at a time, and with a thread per waiting request,
    32 writers queued on the write lock cost wake-ups and GIL hand-offs and wrote nothing
    sooner. Group commit: committing writes the transaction's pages to the WAL, ~180 µs
    of a ~680 µs registration (1M hazards, profiled); the units queued behind one another
    touch the same table and index pages, so one commit for all of them costs about what
    one commit cost alone.

    Each unit of work still stands or falls alone, and none sees a state it would not have
    seen run by itself: the units run in arrival order in one transaction, `write()` and
    `read()` inside them use that transaction, and their results are handed back only once
    it has committed. If one fails, the whole group is rolled back and run again one unit
    per transaction, as without grouping, and each gets its own outcome."""

    MAX_GROUP = 32

    def __init__(self) -> None:
        self.jobs: deque[_Job] = deque()
        self.wakeup = threading.Condition()
        self.thread: threading.Thread | None = None

    def submit(self, fn: Callable[..., T], args: tuple[Any, ...]) -> "asyncio.Future[T]":
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        # The request's context (its request id, which audit rows carry) goes along, as
        # AnyIO's thread pool would carry it.
        job = (loop, future, contextvars.copy_context(), fn, args)
        with self.wakeup:
            if self.thread is None:
                self.thread = threading.Thread(target=self._serve, name="db-write", daemon=True)
                self.thread.start()
            self.jobs.append(job)
            self.wakeup.notify()
        return future

    def _serve(self) -> None:
        while True:
            with self.wakeup:
                while not self.jobs:
                    self.wakeup.wait()
                group = [self.jobs.popleft() for _ in range(min(len(self.jobs), self.MAX_GROUP))]
            if len(group) == 1 or not self._run_together(group):
                for job in group:
                    _deliver_all([job], [_outcome(job)])

    def _run_together(self, group: list[_Job]) -> bool:
        """Run the group in one transaction and deliver the results; False, with nothing
        written and nothing delivered, if any unit failed or the commit did."""
        engine = get_engine()
        try:
            with _writer_slot(engine), Session(engine, expire_on_commit=False) as session:
                session.connection(execution_options={"sqlite_immediate": True})
                _group.session = session
                try:
                    results = []
                    for _, _, context, fn, args in group:
                        results.append(context.run(fn, *args))
                        if _group.failed:  # the unit caught an error of its own write
                            raise _GroupFailed
                    session.commit()
                    checkpoints.written()
                except BaseException:
                    session.rollback()
                    raise
                finally:
                    _group.session, _group.failed = None, False
        except BaseException:  # run again one unit at a time, each getting its own outcome
            return False
        _deliver_all(group, [(result, None) for result in results])
        return True


class _GroupFailed(Exception):
    pass


class _GroupState(threading.local):
    session: Session | None = None
    failed = False


_group = _GroupState()
_group_writer = _GroupWriter()


def _outcome(job: _Job) -> tuple[Any, BaseException | None]:
    _, _, context, fn, args = job
    try:
        return context.run(fn, *args), None
    except BaseException as exc:  # handed to the awaiting route
        return None, exc


def _deliver_all(jobs: list[_Job], outcomes: list[tuple[Any, BaseException | None]]) -> None:
    """Hand each job's outcome to its awaiting route: one wake-up of each event loop for the
    whole list."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any, Any]]] = {}
    for (loop, future, _, _, _), (result, exc) in zip(jobs, outcomes, strict=True):
        by_loop.setdefault(loop, []).append((future, result, exc))
    for loop, settled in by_loop.items():
        with suppress(RuntimeError):  # the loop closed while the work ran: nobody awaits it
            loop.call_soon_threadsafe(_settle, settled)


def _settle(settled: list[tuple["asyncio.Future[Any]", Any, BaseException | None]]) -> None:
    for future, result, exc in settled:
        if future.cancelled():
            continue
        if exc is None:
            future.set_result(result)
        else:
            future.set_exception(exc)


async def in_writer(fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)`, a unit of work that writes, off the event loop: for `async def` routes.

    SQLite: on the group writer (`_GroupWriter`). PostgreSQL: concurrent transactions are
    the point, so AnyIO's thread pool (sized to the connection pool, see
    `configure_threads`)."""
    if get_engine().dialect.name != "sqlite":
        return await to_thread.run_sync(partial(fn, *args))
    return await _group_writer.submit(fn, args)


@contextmanager
def write() -> Iterator[Session]:
    """One transaction: commits when the block ends, rolls everything back on any error.

    Inside a unit of work of the SQLite group writer, the group's transaction (see
    `_GroupWriter`), ended as a transaction of its own would be: flushed, so the unit's own
    errors surface in the unit, and its objects let go, so the next unit loads what it needs
    afresh. An error leaving the block fails the group, which is then run again one unit per
    transaction."""
    grouped = _group.session
    if grouped is not None:
        try:
            yield grouped
            grouped.flush()
        except BaseException:
            _group.failed = True
            raise
        grouped.expunge_all()
        return
    engine = get_engine()
    with _writer_slot(engine), Session(engine, expire_on_commit=False) as session:
        if engine.dialect.name == "sqlite":
            session.connection(execution_options={"sqlite_immediate": True})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        checkpoints.written()
