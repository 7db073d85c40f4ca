"""`dosing users ...`, `dosing db ...` and serve's new options, run as a pharmacist would (stdin piped), on both databases.

Every refusal is exit 3 with one line "dosing: refused: FIELD: problem; fix"
and no traceback: a duplicate name, a short password, an unknown role, a bad
URL, a PostgreSQL that is not running.
"""

import io
import subprocess
import sys

import pytest

from tests.conftest import ROOT

PASSWORD = "morphine sulfate 10"


@pytest.fixture
def typed(monkeypatch, run):
    """Run `dosing ARGS...` with `stdin` piped in: (exit status, stdout, stderr)."""

    def invoke(*args, stdin=""):
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        return run(*args)

    return invoke


def refused(result, field: str) -> str:
    status, out, err = result
    assert status == 3, (out, err)
    assert err.startswith(f"dosing: refused: {field}: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_users_add_list_disable_with_the_password_piped(typed, database_url):
    status, out, err = typed("users", "add", "anna", "--role", "pharmacist", "--db", database_url, stdin=PASSWORD + "\n")
    assert status == 0 and out.startswith("added anna (pharmacist) to ") and err == ""
    assert typed("users", "add", "ben", "--role", "nurse", "--db", database_url, stdin=PASSWORD + "\r\n")[0] == 0
    status, out, _ = typed("users", "list", "--db", database_url)
    lines = out.splitlines()
    assert status == 0 and [line.split()[:3] for line in lines] == [["anna", "pharmacist", "active"], ["ben", "nurse", "active"]]
    assert typed("users", "disable", "BEN", "--db", database_url)[0] == 0
    assert [line.split()[:3] for line in typed("users", "list", "--db", database_url)[1].splitlines()][1] == ["ben", "nurse", "disabled"]

    from dosing.store import accounts, open_database

    db = open_database(database_url)
    try:  # the first line of the pipe is the password, its line ending (\n or \r\n) not part of it
        assert accounts.log_in(db, "anna", PASSWORD, "127.0.0.1") is not None
        assert accounts.log_in(db, "ben", PASSWORD, "127.0.0.1") is None  # disabled
        from dosing.store.orders import audit

        trail = [(e["action"], e["user"], e["role"]) for e in audit(db)]
    finally:
        db.dispose()
    assert trail[0][0] == "user_added" and trail[0][1].endswith("(command line)") and trail[0][2] == "operator"
    assert [a for a, _, _ in trail] == ["user_added", "user_added", "user_disabled", "login", "login_failed"]


def test_refusals_are_exit_3_naming_the_field(typed, database_url):
    assert typed("users", "add", "anna", "--role", "pharmacist", "--db", database_url, stdin=PASSWORD)[0] == 0  # no newline: fine
    err = refused(typed("users", "add", "Anna", "--role", "nurse", "--db", database_url, stdin=PASSWORD), "USER")
    assert "a user named 'anna' already exists" in err
    err = refused(typed("users", "add", "ben", "--role", "nurse", "--db", database_url, stdin="eleven char\n"), "password")
    assert "11 characters, fewer than 12" in err
    refused(typed("users", "add", "ben", "--role", "nurse", "--db", database_url, stdin=""), "password")  # nothing piped
    err = refused(typed("users", "add", "ben", "--role", "doctor", "--db", database_url, stdin=PASSWORD), "--role")
    assert "give pharmacist, nurse or admin" in err
    refused(typed("users", "add", "ben smith", "--role", "nurse", "--db", database_url, stdin=PASSWORD), "USER")
    refused(typed("users", "disable", "nobody", "--db", database_url), "USER")
    assert [line.split()[0] for line in typed("users", "list", "--db", database_url)[1].splitlines()] == ["anna"]


def test_a_database_that_cannot_be_reached_is_refused_without_a_traceback(typed, tmp_path):
    down = f"postgresql+psycopg://nurse:s3cret@/pharmacy?host={tmp_path}"  # no server on that socket
    err = refused(typed("users", "list", "--db", down), "--db")
    assert "cannot open postgresql+psycopg://nurse:***@/pharmacy" in err and "s3cret" not in err
    refused(typed("users", "add", "anna", "--role", "nurse", "--db", down, stdin=PASSWORD), "--db")
    refused(typed("db", "upgrade", "--db", down), "--db")
    err = refused(typed("users", "list", "--db", "mysql://somewhere/pharmacy"), "--db")
    assert "neither SQLite nor PostgreSQL" in err
    refused(typed("users", "add", "anna", "--role", "nurse", "--db", f"sqlite:///{tmp_path}/no/such/folder/pharmacy.sqlite",
                  stdin=PASSWORD), "--db")
    err = refused(typed("users", "list", "--db", f"sqlite:///{tmp_path}/pharmacy.sqlite"), "--db")  # a typing slip: not made anew
    assert "there is no database at" in err and not (tmp_path / "pharmacy.sqlite").exists()


def test_a_terminal_asks_twice_and_the_two_must_match(monkeypatch, run, tmp_path):
    import getpass

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    url = f"sqlite:///{tmp_path / 'pharmacy.sqlite'}"
    monkeypatch.setattr(sys, "stdin", Terminal())
    answers = iter([PASSWORD, PASSWORD + "!", PASSWORD, PASSWORD])
    asked = []
    monkeypatch.setattr(getpass, "getpass", lambda prompt: asked.append(prompt) or next(answers))
    err = refused(run("users", "add", "anna", "--role", "admin", "--db", url), "password")
    assert "the two passwords typed differ" in err and asked == ["Password for anna: ", "The same password again: "]
    assert run("users", "add", "anna", "--role", "admin", "--db", url)[0] == 0


def test_db_upgrade_says_the_revision(typed, database_url):
    status, out, _ = typed("db", "upgrade", "--db", database_url)
    assert status == 0 and out.endswith("the schema is now at revision 0001 (was empty)\n")
    status, out, _ = typed("db", "upgrade", "--db", database_url)
    assert status == 0 and out.endswith("the schema is at revision 0001, the newest; nothing to do\n")


def test_db_import_log_says_what_it_brought_in(run, database_url, tmp_path):
    out_dir = tmp_path / "sheets"
    status, _, err = run("sheet", ROOT / "examples" / "standard-risk.toml", "--phase", "induction", "--start", "2026-06-01",
                         "--out", out_dir, "--format", "html", "--documents", "orders")
    assert status == 0, err
    status, out, _ = run("db", "import-log", out_dir, "--db", database_url)
    assert status == 0 and out == f"{out_dir}: 1 orders imported, 0 already there; 1 documents recorded, 0 of them not found beside the log (kept by name and SHA-256 only)\n"
    status, out, _ = run("db", "import-log", out_dir, "--db", database_url)
    assert status == 0 and out.startswith(f"{out_dir}: 0 orders imported, 1 already there;")
    refused(run("db", "import-log", tmp_path, "--db", database_url), str(tmp_path))  # no issue log there


def test_serve_passes_the_database_and_the_hosts_to_the_page(monkeypatch, run, tmp_path):
    from dosing import web

    called = []
    monkeypatch.setattr(web, "serve", lambda *args, **options: called.append((args, options)) or 0)
    assert run("serve", "--out", tmp_path, "--db", "sqlite:///x.sqlite", "--allowed-host", "dosing.ward", "--allowed-host",
               "pharmacy.example", "--trusted-proxy", "10.0.0.5")[0] == 0
    assert called[-1] == (("127.0.0.1", 8400, tmp_path, None), {"db_url": "sqlite:///x.sqlite",
                                                                "allowed_hosts": ("dosing.ward", "pharmacy.example"),
                                                                "trusted_proxy": "10.0.0.5"})
    assert run("serve", "--out", tmp_path)[0] == 0
    assert called[-1][1] == {"db_url": None, "allowed_hosts": (), "trusted_proxy": None}  # web.serve decides the database


def test_the_installed_command_reads_a_real_pipe(tmp_path):
    url = f"sqlite:///{tmp_path / 'pharmacy.sqlite'}"
    done = subprocess.run([sys.executable, "-m", "dosing", "users", "add", "anna", "--role", "nurse", "--db", url],
                          input=PASSWORD + "\nignored second line\n", capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    done = subprocess.run([sys.executable, "-m", "dosing", "users", "add", "ANNA", "--role", "nurse", "--db", url],
                          input=PASSWORD + "\n", capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 3 and done.stderr.startswith("dosing: refused: USER: a user named 'anna' already exists")


@pytest.mark.parametrize("missing", ["sqlalchemy", "alembic", "argon2"])
def test_without_the_web_extra_the_server_commands_say_how_to_install_it(typed, monkeypatch, tmp_path, missing):
    """`pip install .` alone has no server libraries: one line naming the missing one and the install command, exit 3."""
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == missing else real(name, *a))
    for args in (("users", "list"), ("db", "upgrade")):
        status, out, err = typed(*args, "--db", f"sqlite:///{tmp_path / 'pharmacy.sqlite'}")
        assert (status, out) == (3, ""), err
        assert err == (f"dosing: refused: dosing {args[0]} needs the web extra ({missing} is not "
                       'installed); install it with: pip install ".[web]"\n')
    assert not (tmp_path / "pharmacy.sqlite").exists()
