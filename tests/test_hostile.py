"""Hostile and malformed input: refused with exit 3 and a message, never a traceback, never a sheet.

Hypothesis mutates a valid patient file and the induction regimen file in
many ways; whatever it makes, the command either makes a sheet (the mutation
was still valid) or refuses it, and a refusal leaves the output folder empty.
"""

import json
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import BASE_PATIENT, ROOT, toml_text
from dosing.cli import main

LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40), st.sampled_from(["6.2 kg", "63 cm", "6.2 cm", "-1 kg", "1e400 kg", "0 kg", "nan kg", "2026-13-01",
                                           "2026-05-04", "../../etc/passwd", "<script>alert(1)</script>", "CNS4", "U", "∞"]),
    st.lists(st.text(max_size=5), max_size=3),
)


def run_quietly(args):
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main([str(a) for a in args])
        except SystemExit as exit:
            status = exit.code
    return status, out.getvalue(), err.getvalue()


def assert_refused_cleanly(status, err, out_dir: Path):
    assert status in (0, 2, 3), status
    assert "Traceback" not in err and "internal error" not in err, err
    if status != 0:
        assert not list(out_dir.glob("*.html")) and not list(out_dir.glob("*.pdf"))
        assert err.startswith("dosing: refused:") or "usage:" in err


@st.composite
def mutated_patient(draw):
    data = json.loads(json.dumps(BASE_PATIENT))
    for _ in range(draw(st.integers(1, 3))):
        table = draw(st.sampled_from(["patient", "disease", "measurements", "mrd", "extra"]))
        action = draw(st.sampled_from(["set", "delete", "add"]))
        if table == "measurements":
            entry = data["measurements"][0]
        elif table in ("mrd", "extra"):
            data.setdefault(table, [{"timepoint": "day36", "value": "0.1 %", "method": "flow"}]) if table == "mrd" else None
            entry = data["mrd"][0] if table == "mrd" else data.setdefault("patient", {})
        else:
            entry = data[table]
        key = draw(st.sampled_from(sorted(entry) + ["unknown_field"])) if entry else "unknown_field"
        if action == "delete":
            entry.pop(key, None)
        else:
            entry[key] = draw(LEAVES)
    return data


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=mutated_patient())
def test_malformed_patient_files(data):
    with tempfile.TemporaryDirectory() as folder:
        path, out = Path(folder) / "p.toml", Path(folder) / "out"
        try:
            path.write_text(toml_text(data), encoding="utf-8")
        except (TypeError, ValueError):
            return
        status, _, err = run_quietly(["sheet", path, "--phase", "induction", "--start", "2026-05-05", "--out", out, "--format", "html"])
        assert_refused_cleanly(status, err, out)


@settings(max_examples=60, deadline=None)
@given(raw=st.binary(max_size=300))
def test_random_bytes_as_a_patient_file(raw):
    with tempfile.TemporaryDirectory() as folder:
        path, out = Path(folder) / "p.toml", Path(folder) / "out"
        path.write_bytes(raw)
        status, _, err = run_quietly(["sheet", path, "--phase", "induction", "--start", "2026-05-05", "--out", out, "--format", "html"])
        assert status == 3
        assert_refused_cleanly(status, err, out)


REGIMEN = (ROOT / "regimens" / "all-baby-2021" / "induction.toml").read_text(encoding="utf-8")
REPLACEMENTS = st.sampled_from(['"', "", "0", "-1", "1e9", "[]", "{}", "true", '"x"', '"1.5 U/m2"', '"every 0 days"', '"?"',
                                '"INTRATHECAL"', '"vincristine"', "= =", "[[order]]", '{ value = "1 mg" }', "999", '"0-99"'])


@settings(max_examples=80, deadline=None)
@given(line=st.integers(0, REGIMEN.count("\n")), start=st.integers(0, 60), length=st.integers(0, 30), replacement=REPLACEMENTS)
def test_malformed_regimen_files(line, start, length, replacement):
    lines = REGIMEN.split("\n")
    target = lines[line]
    lines[line] = target[:start] + replacement + target[start + length:]
    with tempfile.TemporaryDirectory() as folder:
        copy, out = Path(folder) / "regimens", Path(folder) / "out"
        shutil.copytree(ROOT / "regimens", copy)
        (copy / "all-baby-2021" / "induction.toml").write_text("\n".join(lines), encoding="utf-8")
        status, _, err = run_quietly(["sheet", ROOT / "examples" / "standard-risk.toml", "--phase", "induction",
                                      "--start", "2026-06-01", "--out", out, "--format", "html", "--regimens", copy])
        assert_refused_cleanly(status, err, out)
