"""The JSON orders as a real process makes them, the way a pharmacist runs the command.

tests/test_golden.py calls dosing.cli.main(argv) inside pytest's process; here
`python -m dosing` and the `dosing` script's own call (main() with no
arguments, reading sys.argv) run as processes, which differ: such a process
pauses the garbage collector and freezes its objects before the interpreter
exits (dosing/cli/__init__.py, issue 18: the JSON orders start and end fast).
Their output must still be the golden copy byte for byte, through a pipe and
into a file, for one patient and for a batch, and a refusal must still say why
with exit status 3.
"""

import json
import subprocess
import sys

import pytest

from golden import GOLDEN, cases
from tests.conftest import EXAMPLES, ROOT

# One case of each kind: a whole phase, a pharmacist's options, a continuous infusion's bags, results.
CHOSEN = ("standard-risk__induction", "kmt2a-rearranged__HR1__infusion-1430", "turns-one-year__blinatumomab__bags-96h",
          "results-maintenance-counts__maintenance")
ARGV = dict(cases())


@pytest.mark.parametrize("name", CHOSEN)
def test_python_m_dosing_prints_the_golden_copy(name):
    done = subprocess.run([sys.executable, "-m", "dosing", *ARGV[name]], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout) == (0, (GOLDEN / f"{name}.json").read_text(encoding="utf-8")), done.stderr


def test_the_dosing_script_writes_the_golden_copy_into_a_file(tmp_path):
    # As the console script calls it: main() with no arguments, standard output a file (fully buffered).
    name = CHOSEN[2]
    code = f"import sys; from dosing.cli import main; sys.argv = ['dosing', *{ARGV[name]!r}]; sys.exit(main())"
    with open(tmp_path / "orders.json", "w", encoding="utf-8") as out:
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, stdout=out, stderr=subprocess.PIPE, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "orders.json").read_text(encoding="utf-8") == (GOLDEN / f"{name}.json").read_text(encoding="utf-8")


def test_a_batch_prints_each_patients_golden_orders():
    # Every example's induction in one process (its collector paused throughout): each is its golden copy.
    names = sorted(name for name in ARGV if name.endswith("__induction") and not name.startswith("results-"))
    assert len(names) == 6
    patients = [ARGV[name][1] for name in names]
    options = ARGV[names[0]][2:]
    assert all(ARGV[name][2:] == options for name in names)
    done = subprocess.run([sys.executable, "-m", "dosing", "sheet", *patients, *options], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    expected = [json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8")) for name in names]
    assert done.returncode == 0, done.stderr
    assert done.stdout == json.dumps(expected, indent=2, ensure_ascii=False) + "\n"


def test_a_refused_patient_still_says_why_with_exit_3(tmp_path):
    missing = tmp_path / "nobody.toml"
    done = subprocess.run([sys.executable, "-m", "dosing", "sheet", str(missing), str(EXAMPLES / "standard-risk.toml"),
                           "--phase", "induction", "--start", "2026-06-01", "--format", "json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 3
    assert done.stderr.startswith(f"dosing: refused: {missing}: ")
    assert '"id": "MRN-100001"' in done.stdout  # the other patient's orders, still printed in full
    assert done.stdout.rstrip().endswith("]")
