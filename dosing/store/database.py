"""Opening the pharmacy server's database: SQLite by default, PostgreSQL by URL, always at the newest schema.

`open_database(url)` makes the engine, brings the schema up to date with the
Alembic migrations (migrations/versions, applied in order, each once) and
returns a Database whose `session()` gives a SQLAlchemy session per unit of
work. A URL that cannot be opened is an InputError naming --db and the fix.
"""

from contextlib import contextmanager
from pathlib import Path

import attrs

from dosing.errors import InputError

DEFAULT_URL = "sqlite:///pharmacy.sqlite"  #: in the folder the server is started from (README, "The pharmacy server")
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


@attrs.define
class Database:
    url: str
    engine: object
    _sessions: object = None

    def session(self):
        """A new SQLAlchemy session (use as a context manager; commit explicitly)."""
        if self._sessions is None:
            from sqlalchemy.orm import sessionmaker

            self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        return self._sessions()

    @contextmanager
    def transaction(self):
        """A session whose work is committed at the end of the block, or rolled back if it raises."""
        with self.session() as session, session.begin():
            yield session

    def has_users(self) -> bool:
        from sqlalchemy import select

        from dosing.store.models import User

        with self.session() as session:
            return session.scalar(select(User.id).where(User.active.is_(True)).limit(1)) is not None

    def dispose(self):
        self.engine.dispose()


def shown(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a URL we cannot even parse is shown as nothing rather than leaked
        return "(a URL that cannot be read)"


def engine_for(url: str):
    """The SQLAlchemy engine for a URL: SQLite with foreign keys, WAL and a wait on a busy file; PostgreSQL as given."""
    from sqlalchemy import create_engine, event
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

            @event.listens_for(engine, "connect")
            def _sqlite(dbapi, _record):
                # sqlite3 opens a transaction lazily and not for SELECT; BEGIN IMMEDIATE below makes every
                # write transaction take the write lock first, so two writers wait rather than both read stale.
                dbapi.isolation_level = None
                cursor = dbapi.cursor()
                cursor.execute("PRAGMA foreign_keys = ON")
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA busy_timeout = 30000")
                cursor.close()

            @event.listens_for(engine, "begin")
            def _begin(connection):
                connection.exec_driver_sql("BEGIN IMMEDIATE")

            return engine
        if url.startswith("postgresql"):
            return create_engine(url, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise InputError("--db", f"{shown(url)} is not a database URL this server can open ({exc})",
                         "give sqlite:///PATH or postgresql+psycopg://USER@HOST/DATABASE") from None
    raise InputError("--db", f"{shown(url)} is neither SQLite nor PostgreSQL",
                     "give sqlite:///PATH or postgresql+psycopg://USER@HOST/DATABASE")


def open_database(url: str = DEFAULT_URL, upgrade: bool = True) -> Database:
    """The database at `url`, its schema brought to the newest migration (refused clearly if it cannot be reached)."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    if url.startswith("sqlite:///") and len(url) > len("sqlite:///"):
        folder = Path(url[len("sqlite:///"):]).parent
        if not folder.is_dir():
            raise InputError("--db", f"{shown(url)}: the folder {folder} does not exist", "create the folder, or give another path")
    engine = engine_for(url)
    try:
        if upgrade:
            migrate(engine)
        else:
            with engine.connect():
                pass
    except (OperationalError, DBAPIError) as exc:
        engine.dispose()
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(getattr(exc, "orig", exc)).strip() else type(exc).__name__
        raise InputError("--db", f"cannot open {shown(url)} ({reason})",
                         "check the URL, that the database server is running and that this user may connect") from None
    return Database(url=url, engine=engine)


def migrate(engine) -> None:
    """Apply every Alembic migration not yet applied (each in its own transaction)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        connection.commit()
