"""The command as a real process: exit codes, no traceback, light start-up."""

import json
import subprocess
import sys

from conftest import EXAMPLES, ROOT, main


def dosing(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "dosing", *map(str, args)], capture_output=True, text=True, cwd=cwd)


def test_json_orders_on_stdout():
    done = dosing("sheet", EXAMPLES / "standard-risk.toml", "--phase", "induction", "--start", "2026-06-01", "--format", "json")
    assert done.returncode == 0
    data = json.loads(done.stdout)
    assert data["phase"] == "induction" and len(data["administrations"]) == 36 + 5 + 2 + 1 + 3 * 6


def test_refusal_is_exit_3_with_reason_and_no_traceback(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text((EXAMPLES / "standard-risk.toml").read_text().replace('weight = "6.4 kg"', "weight = 6.4"))
    done = dosing("sheet", bad, "--phase", "induction", "--start", "2026-06-01", "--out", tmp_path / "out")
    assert done.returncode == 3
    assert "measurements[1].weight" in done.stderr and 'weight = "6.2 kg"' in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert not (tmp_path / "out").exists()


def test_usage_error_is_exit_2():
    done = dosing("sheet", "--phase", "induction")
    assert done.returncode == 2 and "usage" in done.stderr


def test_json_needs_neither_weasyprint_nor_jinja():
    code = (
        "import sys, io, contextlib\n"
        "from dosing.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main(['sheet', {str(EXAMPLES / 'standard-risk.toml')!r}, '--phase', 'induction', '--start', '2026-06-01', '--format', 'json']) == 0\n"
        "print(sorted(m for m in ('weasyprint', 'jinja2', 'dosing.printer', 'dosing.cli.progress', 'dosing.cli.batch', 'tqdm', 'rich')"
        " if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.stdout.strip() == "[]", done.stderr  # nor the printer, nor the progress line


def test_import_does_no_work():
    done = subprocess.run([sys.executable, "-c", "import sys, dosing; print(sorted(m for m in ('pint', 'attrs', 'jinja2') if m in sys.modules))"],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.stdout.strip() == "[]"


def test_serve_without_the_web_extra_says_how_to_install_it(monkeypatch, capsys):
    import sys

    import dosing

    monkeypatch.setitem(sys.modules, "flask", None)  # as if Flask were not installed
    for name in [name for name in sys.modules if name == "dosing.web" or name.startswith("dosing.web.")]:
        monkeypatch.delitem(sys.modules, name)  # the page's package and its modules, imported afresh
    monkeypatch.delattr(dosing, "web", raising=False)  # imported by an earlier test: import it afresh
    # A host that cannot be listened on: if the import ever succeeded, the test fails instead of serving forever.
    assert main(["serve", "--host", "no-such-host.invalid"]) == 2
    err = capsys.readouterr().err
    assert "serve needs the web extra (flask is not installed)" in err and 'pip install ".[web]"' in err
