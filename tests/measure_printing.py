"""Figures for the printer (issue 18, items 1 and 2): printed, never asserted.

    python tests/measure_printing.py [--runs N] [--before DIR]

- a phase's four induction PDFs issued through the page (`dosing serve`, warm),
  with nothing laid out ahead, against the whole `dosing sheet` command;
  with --before DIR (a checkout of an earlier commit: git archive COMMIT | tar -x -C DIR),
  the same through that checkout's page;
- an Issue after its preview (the documents laid out ahead into the cache);
- the same four documents laid out, against read back from the layout cache.
"""

import argparse
import http.client
import os
import re
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


def page_figures(runs, folder, code=None):
    """(issue with nothing laid out ahead, issue after its preview) medians through `dosing serve`, warm."""
    out = folder / "sheets"
    env = dict(ENV, PYTHONPATH=str(code)) if code else ENV
    server = subprocess.Popen([sys.executable, "-m", "dosing", "serve", "--port", "0", "--out", str(out)], cwd=code or ROOT,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = server.stdout.readline()
        page = Page(int(re.search(r":(\d+)/", line)[1]))
        cold, ahead, n = [], [], 0
        for run in range(runs + 1):  # the first warms the page up (templates, regimen data) and is not counted
            form = infant(n := n + 1)
            fingerprint = page.preview(form)
            if code is None:  # this tree lays the preview out ahead: wait for it, then throw it away
                wait_for(lambda: len(cache_entries(out)) == 4)
                clear(out)
            took = page.issue(form, fingerprint)
            if run:
                cold.append(took)
            clear(out)
            if code is None and run:
                form = infant(n := n + 1)
                fingerprint = page.preview(form)
                wait_for(lambda: len(cache_entries(out)) == 4)
                ahead.append(page.issue(form, fingerprint))
                clear(out)
        return statistics.median(cold), statistics.median(ahead) if ahead else None
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(60)


def command_figure(runs, folder):
    times = []
    for run in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "dosing", "sheet", str(PATIENT), "--phase", "induction", "--start", "2026-06-01",
                        "--out", str(folder / f"cli-{run}")], env=ENV, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--before", type=Path, help="a checkout of the code before the printer pool")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dosing-measure-") as scratch:
        folder = Path(scratch)
        command = command_figure(arguments.runs, folder)
        print(f"command line, every induction PDF: {command:.2f} s")
        if arguments.before:
            (folder / "before").mkdir()
            before, _ = page_figures(arguments.runs, folder / "before", arguments.before)
            print(f"page before (layout under a lock, one at a time): {before:.2f} s = {before / command:.2f}x the command line")
        (folder / "after").mkdir()
        after, ahead = page_figures(arguments.runs, folder / "after")
        print(f"page now (the server's printer, every core), nothing laid out ahead: {after:.2f} s = {after / command:.2f}x the command line")
        print(f"page now, Issue after its preview (laid out ahead): {ahead:.2f} s = {ahead / after:.2f}x the Issue above")
        laid, read = cache_figures(arguments.runs, folder)
        print(f"four induction documents laid out (warm, one process): {laid:.2f} s; read back from the cache: {read * 1000:.0f} ms "
              f"= {read / laid:.3f}x")


if __name__ == "__main__":
    main()
