"""Benchmark: how long a pharmacist waits, against the floors nothing can beat.

    python tests/benchmark.py            # 5 runs of each, medians
    python tests/benchmark.py --quick    # 1 run of each (CI, so the benchmark never rots)

Prints the median of each measurement beside its floor (a bare Python start;
WeasyPrint writing a one-line PDF from scratch), the ratio, and the target the
project set (issue 7). Timings are printed, never asserted: they depend on the
machine.
"""

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "standard-risk.toml"
PHASE = ["--phase", "induction", "--start", "2026-06-01"]


def _run(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"benchmark command failed ({done.returncode}): {' '.join(command)}\n{done.stderr[-2000:]}")
    return elapsed


def _median(runs: int, make_command, cwd: Path, warm_up: bool = True) -> float:
    """Median of `runs`, after one untimed run: the first run pays for cold caches
    (the operating system's file cache, pint's registry cache), which no second one does."""
    if warm_up:
        _run(make_command(-1), cwd)
    return statistics.median(_run(make_command(i), cwd) for i in range(runs))


def _pathway_in_process(runs: int) -> float:
    """Every phase's orders for one infant, computed in this process (after one warm-up)."""
    from datetime import date

    from dosing.requests import PHASES
    from dosing.patient import load
    from dosing.regimen import load_phase, load_protocol
    from dosing.pipeline import calculate

    protocol = load_protocol()
    patient = load(EXAMPLE)
    phases = [load_phase(protocol, name) for name in PHASES]
    start = date(2026, 6, 1)

    def everything():
        for phase in phases:
            window = (start, date(2026, 7, 26)) if phase.name == "maintenance" else None
            calculate(patient, protocol, phase, start, window=window)  # doses, bags and findings: all but the second check

    everything()
    timings = []
    for _ in range(max(runs, 9)):  # tens of milliseconds each: enough samples for a steady median
        begin = time.perf_counter()
        everything()
        timings.append(time.perf_counter() - begin)
    return statistics.median(timings)


def _peak_memory_mb(command: list[str], cwd: Path) -> float:
    """Peak resident memory of the largest process the command ran (Linux reports kB)."""
    probe = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], capture_output=True); "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    done = subprocess.run([sys.executable, "-c", probe, *command], cwd=cwd, capture_output=True, text=True)
    return int(done.stdout.strip()) / 1024


def _batch_patients(folder: Path, count: int) -> list[str]:
    text = EXAMPLE.read_text(encoding="utf-8")
    paths = []
    for i in range(count):
        path = folder / f"infant-{i:02d}.toml"
        path.write_text(re.sub(r'id = "[^"]+"', f'id = "BENCH-{i:03d}"', text), encoding="utf-8")
        paths.append(str(path))
    return paths


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python tests/benchmark.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each measurement (median); default 5")
    parser.add_argument("--quick", action="store_true", help="one run of each, as CI does")
    parser.add_argument("--batch", type=int, default=20, help="infants in the batch measurement; default 20")
    arguments = parser.parse_args(argv)
    runs = 1 if arguments.quick else arguments.runs
    python = sys.executable
    dosing = [python, "-m", "dosing"]

    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        fresh = iter(range(10**6))

        def out() -> str:  # sheets are never overwritten: every run writes to a new folder
            return str(scratch / f"out-{next(fresh)}")

        one_line = scratch / "one-line.pdf"
        floors = {
            "bare": _median(runs, lambda i: [python, "-c", "pass"], ROOT),
            "pdf": _median(runs, lambda i: [python, "-c", f"import weasyprint; weasyprint.HTML(string='<p>one line</p>').write_pdf({str(one_line)!r})"], ROOT),
        }
        patients = _batch_patients(scratch, arguments.batch)
        pdf_command = lambda i: [*dosing, "sheet", str(EXAMPLE), *PHASE, "--out", out()]  # noqa: E731
        rows = [
            ("import dosing", _median(runs, lambda i: [python, "-c", "import dosing"], ROOT), "bare", None),
            ("whole pathway, every phase, in-process", _pathway_in_process(runs), None, "under 50 ms"),
            ("JSON orders for a phase (command)", _median(runs, lambda i: [*dosing, "sheet", str(EXAMPLE), *PHASE, "--format", "json"], ROOT), "bare", 12),
            ("HTML of a phase (command)", _median(runs, lambda i: [*dosing, "sheet", str(EXAMPLE), *PHASE, "--format", "html", "--out", out()], ROOT), "bare", None),
            ("every PDF of induction, 4 documents (command)", _median(runs, pdf_command, ROOT), "pdf", 2),
        ]
        one_infant = rows[-1][1]
        batch = _median(runs, lambda i: [*dosing, "sheet", *patients, *PHASE, "--out", out()], ROOT, warm_up=False)
        memory = _peak_memory_mb(pdf_command(0), ROOT)

    print(f"dosing benchmark: {runs} run{'s' if runs > 1 else ''} each, medians; {platform.python_implementation()} "
          f"{platform.python_version()}, {os.cpu_count()} cores, {platform.machine()}")
    print(f"  floor: bare Python start                     {floors['bare'] * 1000:8.0f} ms")
    print(f"  floor: WeasyPrint one-line PDF from scratch  {floors['pdf'] * 1000:8.0f} ms")
    print(f"  {'measurement':<48} {'median':>9} {'ratio':>8}  target")
    for name, seconds, floor, target in rows:
        ratio = f"{seconds / floors[floor]:.1f}×" if floor else ""
        if isinstance(target, (int, float)):
            verdict = f"≤ {target}× ({'met' if seconds / floors[floor] <= target else 'NOT met'})"
        elif target:
            verdict = f"{target} ({'met' if seconds < 0.05 else 'NOT met'})"
        else:
            verdict = ""
        print(f"  {name:<48} {seconds * 1000:7.0f} ms {ratio:>8}  {verdict}")
    ratio = batch / one_infant
    print(f"  {f'batch of {arguments.batch} infants, induction PDFs (command)':<48} {batch * 1000:7.0f} ms {ratio:7.1f}×  "
          f"≤ 6× one infant ({'met' if ratio <= 6 else 'NOT met'})")
    print(f"  {'peak memory, every PDF of induction':<48} {memory:6.0f} MB {'':>8}  under 250 MB ({'met' if memory < 250 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
