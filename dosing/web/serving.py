"""`dosing serve`: which page to serve (the single-user page or the pharmacy team's server), and serving it with waitress.

The mode follows the database, never a guess:
- a database with users (the SQLite file given or found, or a PostgreSQL URL
  given): the team's server, with logins, on any host;
- none, or one without users: the single-user page, on loopback only. Off
  loopback it refuses to start (exit 3) and says how to create accounts, since
  the single-user page would let anyone who can reach the port issue sheets.
An SQLite file that does not exist is never made just to look for users in it.

waitress (a production WSGI server, pure Python, on every platform) runs the
app with 8 threads. Before they start, `serve` starts the printer
(dosing.printing.pool): one process that warms WeasyPrint once and lays out
every request's PDFs side by side on every core (WeasyPrint is not made for
threads, so no request thread lays out a page itself); it stops with the
server. Behind the hospital's TLS proxy, `trusted_proxy` lets that one
address say the request came over https, to which host and from where
(X-Forwarded-Proto, -Host, -For), so cookies are Secure and the log names the
real client; from anyone else those headers are dropped.
"""

import ipaddress
import socket
import sys
from pathlib import Path

from dosing.errors import InputError

THREADS = 8
CREATE_ACCOUNTS = "dosing users add NAME --role pharmacist"
PROXY_HEADERS = {"x-forwarded-proto", "x-forwarded-host", "x-forwarded-for"}


def is_loopback(host: str) -> bool:
    """Whether listening on `host` reaches this machine only (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_hosts(host: str, extra=()) -> tuple[str, ...]:
    """The names a request may be addressed to: loopback, the host listened on, this machine's names, and each --allowed-host.

    Honest users type the machine's name (ward-pc, ward-pc.hospital.org), which
    a list of only the address listened on refused with 421; a page elsewhere
    pointing a name of its own at this machine (DNS rebinding) is still refused.
    """
    names = ["127.0.0.1", "localhost", "::1", host, socket.gethostname(), socket.getfqdn(), *extra]
    return tuple(dict.fromkeys(name.lower().strip("[]").rstrip(".") for name in names if name))


def team_database(db_url: str | None):
    """The database whose users log in to the team's server, or None (no database, or no users in it).

    The default SQLite file is looked at only if it exists; an SQLite file
    given that does not exist is not made either. A URL given that cannot be
    opened is an InputError naming --db.
    """
    from dosing.store import DEFAULT_URL, open_database

    url = db_url or DEFAULT_URL
    if url.startswith("sqlite"):
        path = url.partition(":///")[2]
        if not path or path == ":memory:" or not Path(path).is_file():
            return None
    database = open_database(url)
    if database.has_users():
        return database
    database.dispose()
    return None


def make_server(host: str, port: int, out: Path, regimens: Path | None, db_url: str | None = None, allowed=(),
                trusted_proxy: str | None = None, printer=None):
    """(the waitress server, what it serves, said in a line) ready to run; an InputError when it must not start.

    `printer`: the dosing.printing.pool.PrinterPool its requests lay PDFs out on (see create_app).
    """
    import waitress

    from dosing.web.app import create_app

    database = team_database(db_url)
    if database is None and not is_loopback(host):
        where = f" --db {db_url}" if db_url else ""
        raise InputError("--host", f"{host} is not only this machine, and there are no accounts to log in with, so anyone who "
                         "could reach the page could issue sheets", f"create accounts first: {CREATE_ACCOUNTS}{where}; or serve "
                         "on 127.0.0.1 (the single-user page)")
    app = create_app(out, regimens, hosts=allowed_hosts(host, allowed), database=database, printer=printer)
    proxy = {"trusted_proxy": trusted_proxy, "trusted_proxy_headers": PROXY_HEADERS} if trusted_proxy else {}
    try:
        server = waitress.create_server(app, host=host, port=port, threads=THREADS, ident="dosing", **proxy)
    except OSError as exc:
        raise InputError("--port", f"cannot listen on {host}:{port} ({exc.strerror})", "give another --port") from None
    if database is not None:
        from dosing.store import shown

        what = f"The pharmacy team's server, accounts in {shown(database.url)}: log in to use it"
    else:
        what = f"Sheets go to {Path(out).resolve()}"
    return server, what


def serve(host: str, port: int, out: Path, regimens: Path | None, db_url: str | None = None, allowed_hosts=(),
          trusted_proxy: str | None = None) -> int:
    """Run the page until Ctrl-C; 3 (and why, on standard error) when it must not or cannot start."""
    from dosing.printing.pool import PrinterPool

    # Started first, before waitress starts its threads, and warming while the regimen data loads:
    # the first PDF a pharmacist asks for comes out as fast as the rest.
    printer = PrinterPool()
    printer.start()
    try:
        try:
            server, what = make_server(host, port, out, regimens, db_url, allowed_hosts, trusted_proxy, printer)
        except InputError as exc:
            print(f"dosing: refused: {exc}", file=sys.stderr)
            return 3
        # 0.0.0.0 and :: are "every address", not one a browser can open: give this machine's name instead
        shown = socket.getfqdn() if host in ("0.0.0.0", "::", "") else f"[{host}]" if ":" in host else host
        print(f"dosing: open http://{shown}:{server.effective_port}/ in your browser. {what}. Ctrl-C stops.", flush=True)
        server.run()  # returns on Ctrl-C, after waitress has stopped its threads
        return 0
    finally:
        printer.stop()  # and its workers: no process outlives the server (a killed server's printer sees it go, and leaves)
