"""The pharmacy server's own commands: `dosing users add|list|disable` and `dosing db upgrade|import-log`.

Each opens the database at --db (which brings its schema up to date), does
its one step through dosing.store, and says what it did. A database that
cannot be reached, a bad URL or a refused account is one line on standard
error and exit 3, like every other refusal.
"""

import functools
import sys

EXIT_OK, EXIT_REFUSED = 0, 3


def _needs_web_extra(command):
    """Without the server's libraries (pip install ".[web]"), say so in one line, as `dosing serve` does."""
    @functools.wraps(command)
    def run(arguments) -> int:
        from importlib.util import find_spec

        for name in ("sqlalchemy", "alembic", "argon2"):  # looked for, not imported: the command imports what it uses
            if find_spec(name) is None:
                print(f"dosing: refused: dosing {'db' if command.__name__ == 'database' else command.__name__} needs the web extra ({name} is not installed); "
                      "install it with: pip install \".[web]\"", file=sys.stderr)
                return EXIT_REFUSED
        return command(arguments)

    return run


@_needs_web_extra
def users(arguments) -> int:
    from dosing.store import accounts

    def add(db):
        password = _password(arguments.name)
        accounts.add_user(db, arguments.name, arguments.role, password, created_by=_operator())
        print(f"added {arguments.name} ({arguments.role}) to {_shown(db.url)}")

    def listing(db):
        found = accounts.list_users(db)
        if not found:
            print(f"no accounts in {_shown(db.url)}; add one with: dosing users add NAME --role pharmacist")
        for user in found:
            state = "active" if user["active"] else "disabled"
            print(f"{user['name']:<24} {user['role']:<11} {state:<9} added {user['created_at'].replace('T', ' ')}")

    def disable(db):
        accounts.disable_user(db, arguments.name, by=_operator())
        print(f"disabled {arguments.name}: it can no longer log in, and its open sessions have ended")

    step = {"add": add, "list": listing, "disable": disable}[arguments.users_command]
    return _with_database(arguments.db, step, must_exist=arguments.users_command != "add")


@_needs_web_extra
def database(arguments) -> int:
    if arguments.db_command == "upgrade":
        return _upgrade(arguments.db)

    def import_log(db):
        from dosing.store.imported import import_issue_log

        result = import_issue_log(db, arguments.folder)
        print(f"{arguments.folder}: {result.imported} orders imported, {result.skipped} already there; "
              f"{result.documents} documents recorded, {result.missing} of them not found beside the log (kept by name and SHA-256 only)")

    return _with_database(arguments.db, import_log)


def _upgrade(url: str) -> int:
    """Migrate, saying from which revision to which."""
    from dosing.store.database import migrate, open_database

    def revision(db):
        from alembic.runtime.migration import MigrationContext

        with db.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def work():
        db = open_database(url, upgrade=False)
        try:
            before = revision(db)
            migrate(db.engine)
            after = revision(db)
        finally:
            db.dispose()
        if before == after:
            print(f"{_shown(url)}: the schema is at revision {after}, the newest; nothing to do")
        else:
            print(f"{_shown(url)}: the schema is now at revision {after} (was {before or 'empty'})")

    return _refusing(work)


def _with_database(url: str, step, must_exist: bool = False) -> int:
    """Open the database (`must_exist`: a SQLite file is not made anew by a command that only reads or disables) and do `step`."""
    from pathlib import Path

    from dosing.errors import InputError
    from dosing.store import open_database

    def work():
        if must_exist and url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).is_file():
            raise InputError("--db", f"there is no database at {url[len('sqlite:///'):]}",
                             "give the --db the server uses, or add the first account with: dosing users add NAME --role admin")
        db = open_database(url)
        try:
            step(db)
        finally:
            db.dispose()

    return _refusing(work)


def _refusing(work) -> int:
    """Run `work`; a refusal or an unreachable database is one line naming the field and the fix, exit 3."""
    from sqlalchemy.exc import DBAPIError, SQLAlchemyError

    from dosing.errors import InputError

    try:
        work()
        return EXIT_OK
    except InputError as exc:
        print(f"dosing: refused: {exc}", file=sys.stderr)
    except DBAPIError as exc:  # the server went away, or refused us, after the database was opened
        reason = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
        print(f"dosing: refused: --db: the database failed ({reason}); check that it is running and that this user may write",
              file=sys.stderr)
    except SQLAlchemyError as exc:
        print(f"dosing: refused: --db: the database failed ({type(exc).__name__}); check the URL and that the database is running",
              file=sys.stderr)
    return EXIT_REFUSED


def _password(name: str) -> str:
    """The new account's password: typed twice on a terminal (not echoed), or the first line of a pipe."""
    import getpass

    from dosing.errors import InputError

    if sys.stdin is None:
        raise InputError("password", "there is no standard input to read it from", "pipe it in or type it at a terminal")
    if sys.stdin.isatty():
        try:
            first = getpass.getpass(f"Password for {name}: ")
            again = getpass.getpass("The same password again: ")
        except EOFError:  # Ctrl-D at the prompt
            raise InputError("password", "none was typed", "run the command again and type it twice") from None
        if again != first:
            raise InputError("password", "the two passwords typed differ", "run the command again and type the same one twice")
        return first
    line = sys.stdin.readline()
    return line[:-1].removesuffix("\r") if line.endswith("\n") else line


def _operator() -> str:
    """Who ran the command, for the audit trail: the computer's account name (the server has no login here)."""
    import getpass

    try:
        who = getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name in a bare container
        who = "unknown"
    return f"{who} (command line)"[:64]


def _shown(url: str) -> str:
    from dosing.store import shown

    return shown(url)
