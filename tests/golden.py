"""The golden copy of every example's JSON orders, kept so that a change to the
engine's structure shows, dose by dose, whether it changed any order.

Each case is one example infant, one phase and the options a pharmacist would
give. `python tests/golden.py` rewrites tests/golden/ (do it only when an order
is meant to change, and say why in the commit); tests/test_golden.py compares.
"""

import io
import json
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))  # the checkout's dosing, never an older installed copy
GOLDEN = Path(__file__).resolve().parent / "golden"
TODAY = "2026-06-01"
REASON = "golden copy of the example orders"
PHASES = ["induction", "consolidation_1", "reinduction_1", "consolidation_2", "reinduction_2", "consolidation_3",
          "maintenance", "HR1", "HR2", "HR3", "protocol_II", "blinatumomab"]
VARIANTS = {  # extra options, for the phases where a pharmacist chooses something
    "HR1": [("infusion-1430", ["--infusion-start", "14:30"])],
    "HR2": [("infusion-1430", ["--infusion-start", "14:30"])],
    "blinatumomab": [("bags-96h", ["--bag-hours", "96"])],
    "maintenance": [("weeks-12-from-week-20", ["--weeks", "12", "--from", "2026-12-01"])],
    "induction": [("crisantaspase", ["--substitute", "crisantaspase"])],
}


# The examples with results (issue 15), each for the phase its results drive, and induction refused.
RESULTS = [
    ("hd-mtx-delayed-clearance", "HR1", "2026-09-01", ["--infusion-start", "09:00"]),
    ("hd-mtx-delayed-clearance", "HR2", "2026-09-22", []),
    ("maintenance-counts", "maintenance", "2026-09-01", []),
    ("maintenance-counts", "consolidation_1", "2026-09-01", []),
]


def cases():
    for stem, phase, start, extra in RESULTS:
        yield f"results-{stem}__{phase}", ["sheet", str(ROOT / "examples" / "results" / f"{stem}.toml"), "--phase", phase,
                                           "--start", start, "--format", "json", "--today", TODAY,
                                           "--override-pathway", REASON, "--override-dates", REASON, *extra]
    for example in sorted((ROOT / "examples").glob("*.toml")):
        for phase in PHASES:
            start = "2026-06-01" if phase == "induction" else "2026-09-01"
            base = ["sheet", str(example), "--phase", phase, "--start", start, "--format", "json", "--today", TODAY,
                    "--override-pathway", REASON, "--override-dates", REASON]
            yield f"{example.stem}__{phase}", base
            for name, extra in VARIANTS.get(phase, []):
                yield f"{example.stem}__{phase}__{name}", base + extra


def orders(argv) -> str:
    from dosing.cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as exit:
            status = exit.code
    if status != 0:  # a refusal is golden too: its exit status and message
        return json.dumps({"exit": status, "stderr": err.getvalue()}, indent=2) + "\n"
    return out.getvalue()


if __name__ == "__main__":
    GOLDEN.mkdir(exist_ok=True)
    for name, argv in cases():
        (GOLDEN / f"{name}.json").write_text(orders(argv), encoding="utf-8")
        print(name, file=sys.stderr)
