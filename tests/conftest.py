"""Shared helpers: patient files written on the fly, and the command run in-process."""

import json
from pathlib import Path

import pytest

from dosing.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

BASE_PATIENT = {
    "patient": {
        "id": "MRN-T0001",
        "name": "Test, Infant",
        "sex": "female",
        "birth_date": "2026-02-10",
        "diagnosis_date": "2026-05-04",
        "allergies": [],
    },
    "disease": {"kmt2a": "rearranged", "cns": "CNS1"},
    "measurements": [{"date": "2026-05-04", "weight": "6.2 kg", "length": "63 cm"}],
}


TODAY = "2026-06-01"  #: the day every test takes as today (DOSING_TODAY), so no sheet depends on the day it runs


@pytest.fixture(scope="session", autouse=True)
def fixed_today():
    """Session-wide, so module-scoped fixtures and commands run as subprocesses see it too."""
    import os

    before = os.environ.get("DOSING_TODAY")
    os.environ["DOSING_TODAY"] = TODAY
    yield TODAY
    if before is None:
        del os.environ["DOSING_TODAY"]
    else:
        os.environ["DOSING_TODAY"] = before


def toml_text(data: dict) -> str:
    """A small TOML writer for test patients (dates written bare, as a pharmacist would)."""
    lines = []

    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str) and len(v) == 10 and v[4] == "-" and v[7] == "-" and v[:4].isdigit():
            return v
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return json.dumps(v)

    for key, table in data.items():
        if isinstance(table, list):
            for entry in table:
                lines.append(f"[[{key}]]")
                lines += [f"{k} = {value(v)}" for k, v in entry.items()]
        else:
            lines.append(f"[{key}]")
            lines += [f"{k} = {value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


@pytest.fixture
def patient_file(tmp_path):
    """Write a patient file: patient_file(patient={"name": ...}, measurements=[...])."""

    def write(name="patient.toml", **changes):
        data = json.loads(json.dumps(BASE_PATIENT))
        for key, change in changes.items():
            if isinstance(change, dict) and isinstance(data.get(key), dict):
                data[key].update(change)
            else:
                data[key] = change
        path = tmp_path / name
        path.write_text(toml_text(data), encoding="utf-8")
        return path

    return write


@pytest.fixture
def run(capsys):
    """Run `dosing ARGS...` in-process: (exit status, stdout, stderr)."""

    def invoke(*args):
        try:
            status = main([str(a) for a in args])
        except SystemExit as exit:
            status = exit.code
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return invoke


def centre_regimens(tmp_path, file: str, old: str, new: str) -> Path:
    """A centre's own copy of regimens/ with one passage of `file` (e.g. "all-baby-2021/induction.toml") changed."""
    import shutil

    copy = tmp_path / "regimens"
    shutil.copytree(ROOT / "regimens", copy)
    path = copy / file
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))
    return copy


def orders_json(run, path, start="2026-05-05", phase="induction", extra=()):
    status, out, err = run("sheet", path, "--phase", phase, "--start", start, "--format", "json", *extra)
    assert status == 0, err
    return json.loads(out)


def induction_html(out: Path, example: str, documents: str) -> dict[str, str]:
    """The HTML of an example's induction documents (from 2026-06-01), written by the command into `out`:
    {kind: html}, kind as the file name ends ("calendar", "administration-record", ...)."""
    args = ["sheet", str(EXAMPLES / example), "--phase", "induction", "--start", "2026-06-01", "--format", "html",
            "--documents", documents, "--out", str(out)]
    assert main(args) == 0
    return {path.name.rsplit("_", 1)[1].removesuffix(".html"): path.read_text(encoding="utf-8") for path in out.glob("*.html")}


def given(data, drug, route, day):
    """The one administration of `drug` by `route` on `day` in the JSON orders."""
    found = [a for a in data["administrations"] if a["drug"] == drug and a["route"] == route and a["day"] == day]
    assert len(found) == 1, (drug, route, day, found)
    return found[0]


# -- the pharmacy server's databases: SQLite and a real PostgreSQL (tests/postgres.py) --------------

@pytest.fixture(scope="session")
def postgres_cluster():
    """A throw-away PostgreSQL cluster for the whole test session, or a skip where PostgreSQL is not installed."""
    import os

    from tests.postgres import binaries, cluster

    if binaries() is None:
        if os.environ.get("DOSING_REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL is not installed, and DOSING_REQUIRE_POSTGRES is set (.ci/run installs it)")
        pytest.skip("PostgreSQL is not installed (Debian: apt-get install postgresql); the SQLite runs still test the server")
    with cluster() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """An empty database's URL: a SQLite file, and a fresh database in the session's PostgreSQL cluster."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'pharmacy.sqlite'}"
    import uuid

    from tests.postgres import new_database

    return new_database(request.getfixturevalue("postgres_cluster"), f"t_{uuid.uuid4().hex[:12]}")
