"""Figures for the printer (issue 18, items 1 and 2): printed, never asserted.

    python tests/measure_printing.py [--runs N] [--before DIR]

- a phase's four induction PDFs issued through the page (`dosing serve`, warm),
  with nothing laid out ahead, against the whole `dosing sheet` command;
  with --before DIR (a checkout of an earlier commit: git archive COMMIT | tar -x -C DIR),
  the same through that checkout's page;
- an Issue after its preview (the documents laid out ahead into the cache);
- the same four documents laid out, against read back from the layout cache.

    python tests/measure_printing.py --command-line [--runs N] [--before DIR] [--after DIR]

- issue 18's PDF target only: every induction PDF by the command line (each checkout's, in turns) against
  WeasyPrint writing a one-line PDF from scratch; run it with the interpreter to measure (a clean virtualenv).
  On a machine others are using, their work swamps the difference (runs of 2.5 to 10 s at a load of 3-4 on
  2 cores); the README's figures were taken with `chrt -f 10 python tests/measure_printing.py --command-line
  --pause ...`: real-time priority, so the runs keep their cores, and a pause as long as each run after it,
  so the others are not starved meanwhile.
"""

import argparse
import http.client
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.parse
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PATIENT = ROOT / "examples" / "standard-risk.toml"
SHEET = {"sheet.phase": "induction", "sheet.start": "2026-06-01"}
ENV = {**os.environ, "DOSING_TODAY": "2026-06-01"}


class Page:
    def __init__(self, port):
        self.port = port
        self.token = re.search(r'name="token" value="([^"]+)"', self.ask("GET", "/")[1])[1]

    def ask(self, method, path, form=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        connection.request(method, path, body=urllib.parse.urlencode(form) if form else None,
                           headers={"Host": f"127.0.0.1:{self.port}", "Content-Type": "application/x-www-form-urlencoded"})
        response = connection.getresponse()
        answer = response.status, response.read().decode("utf-8", "replace")
        connection.close()
        return answer

    def preview(self, form):
        status, page = self.ask("POST", "/", {**form, "token": self.token, "action": "preview"})
        assert status == 200, page[-500:]
        return re.search(r'name="previewed" value="([0-9a-f]{64})"', page)[1]

    def issue(self, form, fingerprint):
        started = time.perf_counter()
        status, page = self.ask("POST", "/", {**form, "token": self.token, "action": "issue", "previewed": fingerprint})
        assert status == 200 and "_orders.pdf" in page, page[-800:]
        return time.perf_counter() - started


def infant(n):
    sys.path.insert(0, str(ROOT))
    from dosing.web import form_values

    return form_values(tomllib.loads(PATIENT.read_text())) | SHEET | {"patient.id": f"MRN-7{n:05d}"}


def cache_entries(out):
    return sorted((out / ".layout-cache").glob("*.pdf-entry")) if (out / ".layout-cache").is_dir() else []


def clear(out):
    for path in cache_entries(out):
        path.unlink()


def wait_for(condition, seconds=300):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError
        time.sleep(0.05)


class Server:
    """`dosing serve` of this tree, or of an earlier checkout (`code`), warm, issuing one infant after another."""

    def __init__(self, folder, code=None, lays_ahead=True):
        self.out, self.code, self.n, self.lays_ahead = folder / "sheets", code, 0, lays_ahead
        env = dict(ENV, PYTHONPATH=str(code)) if code else ENV
        self.process = subprocess.Popen([sys.executable, "-m", "dosing", "serve", "--port", "0", "--out", str(self.out)],
                                        cwd=code or ROOT, env=env, stdout=subprocess.PIPE, stderr=open(folder / "server.err", "w"), text=True)
        self.page = Page(int(re.search(r":(\d+)/", self.process.stdout.readline())[1]))
        self.cold()  # warms the page up (templates, regimen data); not counted

    def cold(self) -> float:
        """An Issue with nothing laid out ahead: every document laid out by this request."""
        self.n += 1
        form = infant(self.n)
        fingerprint = self.page.preview(form)
        if self.lays_ahead:  # the preview is laid out ahead: wait for it, then throw it away
            wait_for(lambda: len(cache_entries(self.out)) == 4)
            clear(self.out)
        took = self.page.issue(form, fingerprint)
        clear(self.out)
        return took

    def ahead(self) -> float:
        """An Issue after its preview had the documents laid out ahead."""
        self.n += 1
        form = infant(self.n)
        fingerprint = self.page.preview(form)
        wait_for(lambda: len(cache_entries(self.out)) == 4)
        took = self.page.issue(form, fingerprint)
        clear(self.out)
        return took

    def stop(self):
        self.process.send_signal(signal.SIGINT)
        self.process.wait(60)


def command(folder, run, code=None) -> float:
    env = dict(ENV, PYTHONPATH=str(code)) if code else ENV
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dosing", "sheet", str(PATIENT), "--phase", "induction", "--start", "2026-06-01",
                    "--out", str(folder / f"cli-{run}")], env=env, cwd=code or ROOT, check=True, capture_output=True)
    return time.perf_counter() - started


def cache_figures(runs, folder):
    """The four induction documents laid out one after another in a warm process, against read back from the cache."""
    sys.path.insert(0, str(ROOT))
    os.environ["DOSING_TODAY"] = "2026-06-01"
    from dosing.documents import render
    from dosing.documents.layout_cache import LayoutCache
    from dosing.issuing import prepare
    from dosing.regimen import load_phase, load_protocol
    from dosing.requests import Request

    protocol = load_protocol(None)
    request = Request(start=date(2026, 6, 1), out=folder / "scratch")
    pending = prepare(PATIENT, protocol, load_phase(protocol, "induction"), request, preview=True)
    htmls = [render.html(d) for d in pending.documents]
    render.warm_up()
    (folder / "cached").mkdir()
    cache = LayoutCache.inside(folder / "cached")
    laid, read = [], []
    for _ in range(runs):
        started = time.perf_counter()
        made = [render.pdf_from_html(h) for h in htmls]
        laid.append(time.perf_counter() - started)
        for html, pdf in zip(htmls, made):
            cache.put(html, pdf)
        started = time.perf_counter()
        again = [render.pdf_from_html(h, cache) for h in htmls]
        read.append(time.perf_counter() - started)
        assert again == made
    return statistics.median(laid), statistics.median(read)


def timed(argv, code=None, env=ENV) -> tuple[float, float]:
    """Wall and CPU seconds of a command, CPU counting every process it waited for (its printer, the workers)."""
    env = dict(env, PYTHONPATH=str(code or ROOT))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, env=env, cwd=code or ROOT, check=True, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def command_line(arguments, folder):
    """Issue 18's PDF target: every induction PDF by `dosing sheet` against WeasyPrint writing a one-line PDF from
    scratch, each checkout's command and the floor one run of each in turn; medians of wall and CPU."""
    floor = [sys.executable, "-c", "import weasyprint, sys; weasyprint.HTML(string='<p>one line</p>').write_pdf(sys.argv[1])",
             str(folder / "one-line.pdf")]
    codes = {"floor": None, "after": arguments.after or ROOT, **({"before": arguments.before} if arguments.before else {})}
    times = {name: [] for name in codes}
    for run in range(-1, arguments.runs):  # run -1 warms the file cache and pint's registry cache: not counted
        for name, code in list(codes.items())[::1 if run % 2 else -1]:  # in turns, each first as often as last
            sheet = [sys.executable, "-m", "dosing", "sheet", str(PATIENT), "--phase", "induction", "--start", "2026-06-01",
                     "--out", str(folder / f"{name}-{run}")]
            took = timed(floor if name == "floor" else sheet, code)
            if arguments.pause:
                time.sleep(took[0])
            if run >= 0:
                times[name].append(took)
    wall = {name: statistics.median(t[0] for t in runs) for name, runs in times.items()}
    cpu = {name: statistics.median(t[1] for t in runs) for name, runs in times.items()}
    print(f"floor, WeasyPrint one-line PDF: {wall['floor']:.3f} s (CPU {cpu['floor']:.3f} s)")
    for name in codes.keys() - {"floor"}:
        print(f"{name}: every induction PDF, command: {wall[name]:.3f} s = {wall[name] / wall['floor']:.2f}x the one-line PDF "
              f"(CPU {cpu[name]:.3f} s = {cpu[name] / cpu['floor']:.2f}x)")
    for name in codes.keys() - {"floor"}:  # each run against the floor measured beside it: the machine's speed drifts
        ratios = [t[0] / f[0] for t, f in zip(times[name], times["floor"])]
        print(f"{name}: median of each run's ratio to the one-line PDF beside it: {statistics.median(ratios):.2f}x")
    if "before" in times:
        print(f"after / before, median of each pair: {statistics.median(a[0] / b[0] for a, b in zip(times['after'], times['before'])):.3f}")
    print("raw wall:", {k: [round(t[0], 3) for t in v] for k, v in times.items()})
    print("raw CPU:", {k: [round(t[1], 3) for t in v] for k, v in times.items()})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--before", type=Path, help="a checkout of the code before the printer pool")
    parser.add_argument("--after", type=Path, help="a checkout of the code with it (default: this tree)")
    parser.add_argument("--command-line", action="store_true",
                        help="only the command line's induction PDFs against the one-line PDF (issue 18), before and after")
    parser.add_argument("--pause", action="store_true",
                        help="with --command-line, after each run wait as long as it took (see the note at the top)")
    arguments = parser.parse_args()
    if arguments.command_line:
        with tempfile.TemporaryDirectory(prefix="dosing-measure-") as scratch:
            command_line(arguments, Path(scratch))
        return
    with tempfile.TemporaryDirectory(prefix="dosing-measure-") as scratch:
        folder = Path(scratch)
        for name in ("before", "after"):
            (folder / name).mkdir()
        # Side by side, one run of each in turn: the machine's speed drifts, the ratios hold.
        servers = {"after": Server(folder / "after", arguments.after)}
        if arguments.before:
            servers["before"] = Server(folder / "before", arguments.before, lays_ahead=False)
        times = {"command": [], "before": [], "after": [], "ahead": []}
        try:
            for run in range(arguments.runs):
                times["command"].append(command(folder, run, arguments.after))
                if arguments.before:
                    times["before"].append(servers["before"].cold())
                times["after"].append(servers["after"].cold())
                times["ahead"].append(servers["after"].ahead())
        finally:
            for server in servers.values():
                server.stop()
        cli, after, ahead = (statistics.median(times[k]) for k in ("command", "after", "ahead"))
        print(f"command line, every induction PDF (the whole command): {cli:.2f} s")
        if arguments.before:
            before = statistics.median(times["before"])
            print(f"page before (layout under a lock, one at a time), warm Issue: {before:.2f} s = {before / cli:.2f}x the command line")
        print(f"page now (the server's printer, every core), warm Issue, nothing laid out ahead: {after:.2f} s = {after / cli:.2f}x the command line")
        print(f"page now, Issue after its preview (laid out ahead): {ahead:.2f} s = {ahead / after:.2f}x the Issue above")
        laid, read = cache_figures(arguments.runs, folder)
        print(f"four induction documents laid out (warm, one process): {laid:.2f} s; read back from the cache: {read * 1000:.0f} ms "
              f"= {read / laid:.4f}x")
        print("raw:", {k: [round(t, 2) for t in v] for k, v in times.items()})


if __name__ == "__main__":
    main()
