"""Benchmark: how long a pharmacist waits, and how much memory it takes, against floors nothing can beat.

    python tests/benchmark.py            # 5 runs of each, medians; every phase; a batch of 50 infants
    python tests/benchmark.py --quick    # 1 run of each, two phases, a batch of 3 (CI, so it never rots)

Prints each measurement beside its floor (a bare Python start; WeasyPrint
writing a one-line PDF from scratch), the ratio, and the target issue 18 set,
all measured side by side in one run. Timings are printed, never asserted:
they depend on the machine, and on what else it is doing.
"""

import argparse
import http.cookiejar
import os
import platform
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "standard-risk.toml"
TODAY = "2026-06-01"  # the day taken as today (DOSING_TODAY): the same warnings in every run
PHASE = ["--phase", "induction", "--start", TODAY]
REASON = "benchmark: every phase of the pathway, whatever the results"  # later phases are ordered with overrides
QUICK_PHASES = ("induction", "maintenance")
QUICK_WEEKS, FULL_WEEKS = 8, 104  # quick: the weeks a maintenance sheet prints by default
ENV = {**os.environ, "DOSING_TODAY": TODAY}


class Timed(float):
    """Wall seconds, with the CPU seconds the command and every process it waited for used (user + system).

    On a machine others share, the wall time wanders with their load; the CPU time much less."""

    cpu: float


def _timed(wall: float, cpu: float) -> Timed:
    timed = Timed(wall)
    timed.cpu = cpu
    return timed


def _run(command: list[str], cwd: Path = ROOT) -> Timed:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=ENV)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"benchmark command failed ({done.returncode}): {' '.join(command)}\n{done.stderr[-2000:]}")
    return _timed(elapsed, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)


def _median(runs: int, make_command, cwd: Path = ROOT, warm_up: bool = True) -> Timed:
    """Median of `runs` (wall and CPU each), after one untimed run: the first run pays for cold caches
    (the operating system's file cache, Python's bytecode), which no second one does."""
    if warm_up:
        _run(make_command(-1), cwd)
    timings = [_run(make_command(i), cwd) for i in range(runs)]
    return _timed(statistics.median(timings), statistics.median(t.cpu for t in timings))


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


def _peak(command: list[str]) -> tuple[float, float]:
    """Wall seconds, and the peak resident memory in MB of the largest process the command ran (Linux reports kB).

    RUSAGE_CHILDREN holds the largest of every finished descendant: the command,
    its printer and the printer's layout workers."""
    probe = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
             "done = subprocess.run(sys.argv[1:], capture_output=True, text=True); elapsed = time.perf_counter() - t; "
             "print(done.returncode, elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
             "print(done.stderr[-2000:], file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", probe, *command], cwd=ROOT, capture_output=True, text=True, env=ENV)
    status, elapsed, kilobytes = done.stdout.split()
    if status != "0":
        raise SystemExit(f"benchmark command failed ({status}): {' '.join(command)}\n{done.stderr}")
    return float(elapsed), int(kilobytes) / 1024


def _phase_arguments(phase: str, weeks: int) -> list[str]:
    if phase == "induction":
        return PHASE
    extra = ["--weeks", str(weeks)] if phase == "maintenance" else []
    return ["--phase", phase, "--start", "2026-09-01", "--override-pathway", REASON, "--override-dates", REASON, *extra]


def _batch_patients(folder: Path, count: int) -> list[str]:
    text = EXAMPLE.read_text(encoding="utf-8")
    paths = []
    for i in range(count):
        path = folder / f"infant-{i:02d}.toml"
        path.write_text(re.sub(r'id = "[^"]+"', f'id = "BENCH-{i:03d}"', text), encoding="utf-8")
        paths.append(str(path))
    return paths


def _layout_again(runs: int, html_folder: Path, scratch: Path):
    """The induction's four documents laid out from their HTML with an empty layout cache, then
    the same HTML again (an unchanged document issued again): medians, in this process, WeasyPrint warm.
    None when the cache is not built."""
    try:
        from dosing.documents.layout_cache import LayoutCache
    except ImportError:
        return None
    from dosing.documents import render

    htmls = [p.read_text(encoding="utf-8") for p in sorted(html_folder.glob("*.html"))]
    render.warm_up()  # WeasyPrint imported and its fonts loaded: the first layout is layout only
    first, again = [], []
    for i in range(runs):
        cache = LayoutCache(scratch / f"layout-cache-{i}")
        begin = time.perf_counter()
        made = [render.pdf_from_html(html, cache) for html in htmls]
        middle = time.perf_counter()
        kept = [render.pdf_from_html(html, cache) for html in htmls]
        first.append(middle - begin)
        again.append(time.perf_counter() - middle)
        if kept != made:
            raise SystemExit("benchmark: the layout cache returned other PDFs than it was given")
    return statistics.median(first), statistics.median(again), len(htmls)


class _Page:
    """`dosing serve` on a free loopback port, its form posted as a browser posts it."""

    def __init__(self, out: Path):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process = subprocess.Popen([sys.executable, "-m", "dosing", "serve", "--port", str(self.port), "--out", str(out)],
                                        cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()  # "dosing: open http://...": listening
        if "open http" not in line:
            self.stop()
            raise RuntimeError(f"dosing serve did not start: {line}{self.process.stderr.read()[-2000:]}")
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def _open(self, data=None) -> str:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        with self.opener.open(f"http://127.0.0.1:{self.port}/", body, timeout=600) as response:
            return response.read().decode()

    def post(self, form: dict, action: str, **extra) -> str:
        token = re.search(r'name="token" value="([^"]+)"', self._open())[1]
        return self._open({**form, "token": token, "action": action, **extra})

    def preview(self, form: dict) -> str:
        page = self.post(form, "preview")
        return re.search(r'<input type="hidden" name="previewed" value="([0-9a-f]{64})">', page)[1]

    def issue(self, form: dict, previewed: str) -> None:
        page = self.post(form, "issue", previewed=previewed)
        if len(re.findall(r'href="/sheets/[^"]+\.pdf"', page)) < 4:
            raise RuntimeError("the page issued no PDFs")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)  # as Ctrl-C: the server stops its printer too
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _through_the_page(runs: int, out: Path):
    """Preview then Issue of the example's induction PDFs on a warm page (one preview of another infant first):
    medians of (preview, issue), or the reason it was not measured."""
    try:
        from dosing.web import form_values
    except ImportError:
        return "not measured: the web extra is not installed"
    with open(EXAMPLE, "rb") as stream:
        form = form_values(tomllib.load(stream)) | {"sheet.phase": "induction", "sheet.start": TODAY}
    try:
        page = _Page(out)
    except RuntimeError as exc:
        return f"not measured: {exc}"
    try:
        page.preview(form | {"patient.id": "BENCH-WARM"})
        previews, issues = [], []
        for i in range(runs):  # a new infant each time: an issued sheet is never issued again unchanged
            infant = form | {"patient.id": f"BENCH-PAGE-{i}"}
            begin = time.perf_counter()
            previewed = page.preview(infant)
            middle = time.perf_counter()
            page.issue(infant, previewed)
            previews.append(middle - begin)
            issues.append(time.perf_counter() - middle)
        return statistics.median(previews), statistics.median(issues)
    except (OSError, RuntimeError, TypeError) as exc:  # TypeError: a page without the expected field
        return f"not measured: {type(exc).__name__}: {exc}"
    finally:
        page.stop()


def _pint_registry(runs: int) -> tuple[float, float]:
    """A new process that builds the unit registry: pint without NumPy (as every command), and with NumPy loaded first."""
    build = "from dosing.units import registry; registry()"
    return (_median(runs, lambda i: [sys.executable, "-c", build]),
            _median(runs, lambda i: [sys.executable, "-c", f"import numpy; {build}"]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python tests/benchmark.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each timing (median); default 5")
    parser.add_argument("--quick", action="store_true", help=f"one run of each, phases {' and '.join(QUICK_PHASES)} only "
                        f"(maintenance {QUICK_WEEKS} weeks), a batch of 3, as CI does")
    parser.add_argument("--batch", type=int, help="infants in the batch measurement; default 50 (3 with --quick)")
    arguments = parser.parse_args(argv)
    runs = 1 if arguments.quick else arguments.runs
    batch_size = arguments.batch or (3 if arguments.quick else 50)
    weeks = QUICK_WEEKS if arguments.quick else FULL_WEEKS
    from dosing.requests import PHASES

    phases = [p for p in PHASES if p in QUICK_PHASES] if arguments.quick else list(PHASES)
    python = sys.executable
    dosing = [python, "-m", "dosing"]

    print(f"dosing benchmark: {runs} run{'s' if runs > 1 else ''} of each timing, medians; {platform.python_implementation()} "
          f"{platform.python_version()}, {os.cpu_count()} cores, {platform.machine()}"
          + (f"; quick: phases {', '.join(phases)} (maintenance {weeks} weeks), a batch of {batch_size}" if arguments.quick else ""),
          flush=True)
    floors = {}

    def line(name, seconds, floor=None, target=None, of=""):
        """One figure, printed as soon as it is measured: a long run shows progress, and a failure keeps what was measured."""
        ratio = seconds / floors[floor] if floor else None
        shown = f"{ratio:.2f}×" if ratio is not None else ""
        if isinstance(target, (int, float)):
            verdict = f"≤ {target}× {of}({'met' if ratio <= target else 'NOT met'})"
        elif target:
            verdict = f"{target} ({'met' if seconds < 0.05 else 'NOT met'})"
        else:
            verdict = of.strip()
        cpu = getattr(seconds, "cpu", None)
        if cpu is not None:
            base = getattr(floors.get(floor), "cpu", None)
            cpu = f"{cpu * 1000:7.0f} ms" + (f" {cpu / base:6.2f}×" if base else " " * 8)
        print(f"  {name:<48} {seconds * 1000:7.0f} ms {shown:>8}  {cpu or '':<18}  {verdict}", flush=True)

    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        fresh = iter(range(10**6))

        def out() -> str:  # sheets are never overwritten: every run writes to a new folder
            return str(scratch / f"out-{next(fresh)}")

        one_line = scratch / "one-line.pdf"
        floors["bare"] = _median(runs, lambda i: [python, "-c", "pass"])
        floors["pdf"] = _median(runs, lambda i: [python, "-c", f"import weasyprint; weasyprint.HTML(string='<p>one line</p>').write_pdf({str(one_line)!r})"])
        print(f"  {'measurement':<48} {'wall':>9} {'ratio':>8}  {'CPU, its ratio':<18}  target")
        line("floor: bare Python start", floors["bare"])
        line("floor: WeasyPrint one-line PDF from scratch", floors["pdf"])
        line("import dosing", _median(runs, lambda i: [python, "-c", "import dosing"]), "bare", None, "bare")
        line("whole pathway, every phase, in-process", _pathway_in_process(runs), None, "under 50 ms")
        without_numpy, with_numpy = _pint_registry(runs)
        line("pint's registry, new process, without NumPy", without_numpy, "bare", None, "bare")
        line("pint's registry, new process, with NumPy", with_numpy, "bare", None, "bare")
        line("JSON orders for a phase (command)", _median(runs, lambda i: [*dosing, "sheet", str(EXAMPLE), *PHASE, "--format", "json"]),
             "bare", 15, "bare ")
        line("HTML of a phase (command)", _median(runs, lambda i: [*dosing, "sheet", str(EXAMPLE), *PHASE, "--format", "html", "--out", out()]),
             "bare", None, "bare")
        floors["command"] = one_infant = _median(runs, lambda i: [*dosing, "sheet", str(EXAMPLE), *PHASE, "--out", out()])
        line("every PDF of induction, 4 documents (command)", one_infant, "pdf", 2.5, "one-line PDF ")

        page = _through_the_page(runs, scratch / "page")
        if isinstance(page, str):
            print(f"  {'every PDF of induction through the page, warm':<48} {page}", flush=True)
        else:
            preview, issue = page
            line("  page: Preview", preview)
            line("  page: Issue after the Preview", issue)
            line("every PDF of induction through the page, warm", preview + issue, "command", 1, "the command ")

        html_folder = Path(out())
        _run([*dosing, "sheet", str(EXAMPLE), *PHASE, "--format", "html", "--out", str(html_folder)])
        layout = _layout_again(runs, html_folder, scratch)
        if layout is None:
            print(f"  {'an unchanged document issued again':<48} not built (no dosing/documents/layout_cache.py)", flush=True)
        else:
            first, again, count = layout
            floors["layout"] = first
            line(f"  first layout, induction's {count} documents", first)
            line("an unchanged document issued again", again, "layout", 0.1, "its first layout ")

        print(f"  {'peak memory, PDFs of each phase (command)':<48} {'MB':>9} {'time':>8}", flush=True)
        memory = []
        for phase in phases:
            seconds, megabytes = _peak([*dosing, "sheet", str(EXAMPLE), *_phase_arguments(phase, weeks), "--out", out()])
            memory.append((phase, megabytes))
            name = f"{phase} ({weeks} weeks)" if phase == "maintenance" else phase
            print(f"    {name:<46} {megabytes:6.0f} MB {seconds:7.1f} s", flush=True)
        phase, largest = max(memory, key=lambda m: m[1])
        print(f"  {'peak memory, largest of every phase':<48} {largest:6.0f} MB {'':>8}  under 250 MB "
              f"({'met' if largest < 250 else 'NOT met'}; {phase})", flush=True)

        patients = _batch_patients(scratch, batch_size)
        batch_seconds, batch_memory = _peak([*dosing, "sheet", *patients, *PHASE, "--out", out()])
        print(f"  {f'batch of {batch_size} infants, induction PDFs (command)':<48} {batch_seconds:7.1f} s  "
              f"{batch_seconds / one_infant:7.1f}×  one infant's time ({batch_seconds / batch_size:.2f} s an infant)")
        print(f"  {f'peak memory, batch of {batch_size} infants':<48} {batch_memory:6.0f} MB {'':>8}  under 250 MB "
              f"({'met' if batch_memory < 250 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
