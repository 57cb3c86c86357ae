"""Database engines, the declarative base every table hangs off, and the unit of work.

SQLite is the embedded default, PostgreSQL the production store; both go through the
same code so the persistence test suite can prove them equal.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import DateTime, MetaData, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator
from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_exponential

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware datetimes on both databases: stored as UTC, read back aware.

    SQLite has no timezone type, so a naive value read back would silently lose the zone.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} cannot be stored; attach a timezone")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def normalise_url(url: str) -> str:
    """Accept the usual `postgresql://` spelling and route it to psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def make_engine(url: str, *, pool_size: int = 5, echo: bool = False) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database, echo=echo)
    from sqlalchemy import create_engine

    # No pool_pre_ping: it costs a round trip on every checkout, a tenth of a workflow
    # step. After a database restart the first statement on a stale connection fails, the
    # pool is invalidated whole, and the caller's retry (consumer, relay, client) succeeds.
    return create_engine(
        url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800, echo=echo
    )


def _sqlite_engine(url: str, database: str | None, *, echo: bool) -> Engine:
    from sqlalchemy import create_engine

    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    # Several processes (web, worker) share one SQLite file: WAL lets readers run beside
    # the single writer, busy_timeout makes writers queue instead of failing, and
    # BEGIN IMMEDIATE takes the write lock up front so two read-then-write transactions
    # cannot deadlock on lock upgrade.
    engine = create_engine(
        url,
        echo=echo,
        poolclass=NullPool if database in (None, "", ":memory:") else None,
        connect_args={"timeout": 30, "isolation_level": None, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        _switch_to_wal(cur)
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _switch_to_wal(cur: Any, patience_s: float = 30.0) -> None:
    """PRAGMA journal_mode=WAL, waiting while another connection holds the file.

    Switching a new file to WAL needs it to itself, and SQLite answers "database is
    locked" at once instead of waiting (busy_timeout does not apply): processes opening a
    fresh database together (a web and a worker at first start, migrations racing) would
    fail. WAL is a property of the file, so this only ever waits on first use."""
    retrying = Retrying(
        retry=retry_if_exception(_database_locked),
        wait=wait_exponential(multiplier=0.005, max=0.2),  # 5 ms, 10 ms, ... 200 ms
        stop=stop_after_delay(patience_s),
        reraise=True,  # after the patience: SQLite's own "database is locked"
    )
    retrying(cur.execute, "PRAGMA journal_mode=WAL")


def _database_locked(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


@contextmanager
def unit_of_work(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: everything inside commits together or not at all."""
    session = sessions()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


_Memo = TypeVar("_Memo")


def transaction_memo(session: Session, key: str, make: Callable[[], _Memo]) -> _Memo:
    """What `session.info[key]` holds for the transaction under way, made anew (`make()`)
    in each: for what holds only as long as the transaction it was learnt in (rows it
    locked, answers read from rows it may change)."""
    transaction = session.get_transaction()
    held = session.info.get(key)
    if held is None or held[0] is not transaction:
        held = session.info[key] = (transaction, make())
    return held[1]


def is_reachable(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
