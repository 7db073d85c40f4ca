"""A throw-away PostgreSQL cluster for the tests: Debian's `postgresql`, started for the test session, removed after.

initdb into a temporary folder, listening only on a Unix socket in that
folder (no TCP port to clash with, nothing reachable from outside), trust
authentication for the one local user. As root (CI), the cluster runs as
Debian's `postgres` user, since PostgreSQL refuses to run as root.

Without the binaries the PostgreSQL tests skip on a developer's machine and
fail where DOSING_REQUIRE_POSTGRES=1 (.ci/run).
"""

import glob
import os
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path


def binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    return Path(found[-1]).parent if found else None


@contextmanager
def cluster():
    """Yield a SQLAlchemy URL for a fresh, empty database; stop and remove the cluster afterwards."""
    bin_dir = binaries()
    if bin_dir is None:
        raise FileNotFoundError("PostgreSQL is not installed (Debian: apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="dosing-pg-"))
    data, socket = root / "data", root / "socket"
    socket.mkdir()
    as_root = os.geteuid() == 0
    run_as = ["runuser", "-u", "postgres", "--"] if as_root else []
    if as_root:
        shutil.chown(root, "postgres")
        shutil.chown(socket, "postgres")
        os.chmod(root, 0o755)
    user = "postgres" if as_root else os.environ.get("USER", "dosing")

    def run(*args, **kw):
        return subprocess.run(run_as + [str(a) for a in args], check=True, capture_output=True, text=True, **kw)

    try:
        run(bin_dir / "initdb", "-D", data, "-U", user, "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
        run(bin_dir / "pg_ctl", "-D", data, "-l", root / "log", "-w", "-t", "60", "start",
            "-o", f"-c listen_addresses='' -k {socket} -c fsync=off -c max_connections=60")
        for _ in range(100):
            if run(bin_dir / "pg_isready", "-h", socket, "-U", user).returncode == 0:
                break
            time.sleep(0.1)
        run(bin_dir / "createdb", "-h", socket, "-U", user, "dosing_test")
        url = f"postgresql+psycopg://{user}@/dosing_test?host={socket}"
        _STOP[url] = lambda: run(bin_dir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
        yield url
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(run_as + [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


_STOP = {}  #: each running cluster's URL -> how to stop it


def stop(url: str) -> None:
    """Stop the cluster serving `url` at once (a database server that went down, for real)."""
    _STOP.pop(url)()


def new_database(url: str, name: str) -> str:
    """Another empty database in the same cluster (each test gets its own), as a URL."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return url.replace("/dosing_test?", f"/{name}?")
