"""What each way of making orders imports (issue 18, item 4): only what it uses.

A command runs in a fresh process, as a pharmacist runs it, and reports the
modules it loaded (sys.modules at the end; the JSON path never loads
fhir.resources, among the rest); a later change that quietly
brings back NumPy, SciPy, WeasyPrint or the server's libraries fails here,
naming the module. Timings are printed by tests/benchmark.py, never asserted.

pint is imported without its optional NumPy support (dosing.units): every
golden case is made both ways, in one process each, and must be the golden
copy byte for byte either way; NumPy and rcpchgrowth's SciPy functions still
load after pint in the same process (issue 19 will draw centile lines with them).
"""

import json
import subprocess
import sys
import threading

import pytest

from tests.conftest import ROOT

START = "2026-06-01"
SHEET = ["sheet", "examples/standard-risk.toml", "--phase", "induction", "--start", START]

# Never loaded by any command that makes sheets: FHIR's models, the server and its database.
NEVER = ("fhir", "fhir_core", "pydantic", "flask", "werkzeug", "sqlalchemy", "psycopg", "psycopg2", "alembic")
# Arrays and rcpchgrowth's public (SciPy) functions: the growth check reads its tables without them
# (dosing/growth.py). A document that draws centile lines with them (issue 19) may load them, imported
# where it draws: then they leave NOT_FOR_DOCUMENTS only, never NOT_FOR_JSON.
ARRAYS = ("numpy", "scipy", "rcpchgrowth")
NOT_FOR_DOCUMENTS = NEVER + ARRAYS
# Not loaded for the JSON orders either: templates, layout, and the printed documents' own modules.
NOT_FOR_JSON = NEVER + ARRAYS + ("jinja2", "markupsafe", "weasyprint", "pydyf", "tinycss2", "PIL", "fontTools",
                        "dosing.documents.record", "dosing.documents.calendar", "dosing.documents.common",
                        "dosing.documents.orders", "dosing.documents.render", "dosing.output", "dosing.printer",
                        "dosing.printing", "dosing.web", "dosing.store.models")
# HTML: templates, but no layout in this process (a PDF is laid out by the printer process).
NOT_FOR_HTML = NOT_FOR_DOCUMENTS + ("weasyprint", "pydyf")


def loaded(argv: list[str]) -> set[str]:
    """The modules a fresh process holds after `dosing ARGV` (run through dosing.cli.main, as the console script does)."""
    code = (f"import sys; from dosing.cli import main; status = main({argv!r}); "
            "import json; print(json.dumps(sorted(sys.modules)), file=sys.stderr); sys.exit(status)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


def unwanted(modules: set[str], names) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in names))


def test_import_dosing_imports_nothing_else():
    code = "import sys; before = set(sys.modules); import dosing; print(sorted(set(sys.modules) - before))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "['dosing']", done.stderr


def test_the_json_orders_load_only_what_they_use():
    modules = loaded([*SHEET, "--format", "json"])
    assert unwanted(modules, NOT_FOR_JSON) == []
    assert {"pint", "dosing.documents.json_orders", "dosing.second_check"} <= modules  # the test sees the real path


# What only other commands, or other phases, use (issue 18: the JSON orders start fast): the other commands'
# modules (each imported when its command runs), the server's password hashing and web framework, and the
# bag planners of a continuous infusion, which induction has not.
NOT_FOR_JSON_INDUCTION = ("dosing.cli.plan", "dosing.cli.pharmacy", "dosing.cli.batch", "dosing.cli.progress",
                          "dosing.cli.report", "dosing.resumption", "dosing.verification", "argon2", "flask", "waitress",
                          "dosing.bags", "dosing.second_check.bags", "dosing.regimen.schwartz")


def test_the_json_orders_for_induction_load_nothing_only_other_commands_use():
    modules = loaded([*SHEET, "--format", "json"])
    assert unwanted(modules, NOT_FOR_JSON_INDUCTION + NOT_FOR_JSON) == []
    assert {"dosing.cli.commands", "dosing.pipeline", "dosing.issuing"} <= modules


def test_the_html_documents_load_no_arrays_layout_or_server(tmp_path):
    modules = loaded([*SHEET, "--format", "html", "--out", str(tmp_path / "out")])
    assert unwanted(modules, NOT_FOR_HTML) == []
    assert {"jinja2", "dosing.documents.record"} <= modules
    assert len(list((tmp_path / "out").glob("*.html"))) == 4


def test_the_pdf_command_loads_no_arrays_or_server(tmp_path):
    # This process computes and renders; the layout is the printer process's (dosing.printer).
    modules = loaded([*SHEET, "--out", str(tmp_path / "out")])
    assert unwanted(modules, NOT_FOR_DOCUMENTS) == []
    assert len(list((tmp_path / "out").glob("*.pdf"))) == 4


def test_the_fhir_orders_load_fhir_but_no_arrays_templates_or_server():
    modules = loaded([*SHEET, "--format", "fhir"])
    assert unwanted(modules, NOT_FOR_JSON[len(NEVER):] + ("flask", "sqlalchemy")) == []
    assert "fhir.resources" in modules


GOLDEN_BOTH_WAYS = """
import json, sys
sys.path.insert(0, "tests")
{before}
from golden import GOLDEN, cases, orders
differ = [name for name, argv in cases() if orders(argv) != (GOLDEN / f"{{name}}.json").read_text(encoding="utf-8")]
import pint.compat
print(json.dumps({{"numpy": pint.compat.HAS_NUMPY, "cases": len(list(cases())), "differ": differ}}))
"""


@pytest.mark.parametrize("numpy_first", [False, True], ids=["pint-without-numpy", "pint-with-numpy"])
def test_every_golden_case_is_identical_with_or_without_numpy_in_pint(numpy_first):
    # Without: a fresh process, as every command runs. With: NumPy loaded before pint, as in
    # a process that has used rcpchgrowth's or SciPy's functions first; pint then uses it.
    code = GOLDEN_BOTH_WAYS.format(before="import numpy" if numpy_first else "")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"numpy": numpy_first, "cases": 106, "differ": []}


def test_numpy_and_rcpchgrowth_still_load_after_pint():
    # The growth check against rcpchgrowth's own SciPy-based function, in the process that
    # already built the registry without NumPy: a later import of NumPy is never refused.
    code = """
import sys
from dosing.units import Q, registry
from dosing import growth
registry()
assert "numpy" not in sys.modules and "scipy" not in sys.modules
from rcpchgrowth.global_functions import sds_for_measurement
theirs = sds_for_measurement(reference="who", age=183 / 365.25, measurement_method="weight", observation_value=6.2, sex="female")
ours = growth.z_score("weight", "female", 183, 6.2)
import numpy
print(round(theirs, 6), round(ours, 6), (Q(6.2, "kg") * 2).m_as("g"), "scipy" in sys.modules)
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    theirs, ours, grams, scipy = done.stdout.split()
    assert float(ours) == pytest.approx(float(theirs), abs=1e-6) and float(theirs) < 0  # 6.2 kg at 183 days: below the girls' median
    assert (grams, scipy) == ("12400.0", "True")


def test_numpy_is_refused_only_to_the_thread_importing_pint():
    from dosing.unit_registry import _Unoffered

    finder = _Unoffered()  # made in this thread, as dosing.unit_registry makes it while importing pint
    with pytest.raises(ModuleNotFoundError, match="numpy.linalg is not offered to pint"):
        finder.find_spec("numpy.linalg")
    assert finder.find_spec("json") is None and finder.find_spec("numpyro") is None
    elsewhere = []
    thread = threading.Thread(target=lambda: elsewhere.append(finder.find_spec("numpy")))
    thread.start()
    thread.join()
    assert elsewhere == [None]  # another thread (a server's request) imports NumPy as usual
    assert finder not in sys.meta_path
