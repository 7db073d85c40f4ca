"""The web server's printer (dosing.printing.pool): shared by every request, each getting its own PDFs;
a printer killed mid-request is a refusal, never a hang or a sheet; no process outlives the server;
an Issue after its preview finds its documents laid out (dosing.documents.layout_cache).

Real processes throughout: a real waitress server, a real printer killed with SIGKILL, `dosing serve`
stopped with Ctrl-C (SIGINT) and killed. Timings are printed for the record, never asserted.
"""

import http.client
import io
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

pytest.importorskip("flask", reason="the web extra is not installed: pip install '.[web]'")
pytest.importorskip("waitress", reason="the web extra is not installed: pip install '.[web]'")

from pypdf import PdfReader  # noqa: E402
from test_web import example_form  # noqa: E402
from tests import serving  # noqa: E402

from dosing.printer import PrinterError  # noqa: E402
from dosing.printing.pool import STOPPED, PrinterPool  # noqa: E402
from dosing.web import create_app  # noqa: E402
from dosing.web.serving import make_server  # noqa: E402

SHEET = {"sheet.phase": "induction", "sheet.start": "2026-06-01"}


def _page(text: str) -> str:
    return f"<!DOCTYPE html><html><body><p>{text}</p></body></html>"


def _text(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _long(rows: int) -> str:
    """A document that takes seconds to lay out: time to kill the printer in the middle of it."""
    cells = "".join(f"<tr><td>row {n}</td><td>{n} mg</td><td></td><td></td></tr>" for n in range(rows))
    return f"<!DOCTYPE html><html><body><table border=1>{cells}</table></body></html>"


def _at_once(request, keys, timeout: float) -> dict:
    """request(key) for every key, each in its own thread, all let go at the same moment (as a team's
    requests arrive): {key: what it returned}, once every thread has ended or `timeout` seconds passed."""
    got, start = {}, threading.Barrier(len(keys))

    def one(key):
        start.wait()
        got[key] = request(key)

    threads = [threading.Thread(target=one, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return got


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` and that still run (a zombie has finished)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry))
    return found


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def _wait_until(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


@pytest.fixture(scope="module")
def pool():
    printer = PrinterPool(workers=2)
    printer.start(wait=True)
    yield printer
    printer.stop()


def test_requests_at_once_each_get_their_own_pdfs_in_their_order(pool):
    asked = {n: [_page(f"patient {n} orders"), _long(40 + 20 * n) + f"<p>patient {n} record</p>", _page(f"patient {n} calendar")]
             for n in range(6)}
    got = _at_once(lambda n: pool.lay_out(asked[n]), asked, 120)
    for n in asked:
        texts = [_text(pdf) for pdf in got[n]]
        assert f"patient {n} orders" in texts[0] and f"patient {n} record" in texts[1] and f"patient {n} calendar" in texts[2]
        assert not any(f"patient {m} " in " ".join(texts) for m in asked if m != n)


def test_a_printer_killed_during_a_request_is_a_refusal_and_a_new_one_serves_the_next(tmp_path):
    printer = PrinterPool(workers=1)
    printer.start(wait=True)
    try:
        first = printer.pid
        workers = _children(first)
        assert len(workers) == 1
        failed = []

        def request():
            try:
                printer.lay_out([_long(3000)])
            except PrinterError as exc:
                failed.append(str(exc))

        thread = threading.Thread(target=request)
        thread.start()
        time.sleep(1.0)  # the worker is laying the long document out
        assert thread.is_alive(), "the document was laid out before the printer could be killed"
        os.kill(first, signal.SIGKILL)
        thread.join(30)
        assert not thread.is_alive(), "the request waited on a dead printer"
        assert failed == [STOPPED]
        _wait_until(lambda: not _running(workers[0]), 10, "the dead printer's worker lingers")
        (pdf,) = printer.lay_out([_page("after the restart")])
        assert "after the restart" in _text(pdf) and printer.pid != first
    finally:
        printer.stop()


class _Form:
    """The single-user page over real HTTP: its token, a preview's fingerprint, an Issue."""

    def __init__(self, port: int):
        self.port, self.cookie = port, ""
        self.token = re.search(r'name="token" value="([^"]+)"', self.ask("GET", "/")[1])[1]

    def ask(self, method, path, form=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        body = urllib.parse.urlencode(form) if form else None
        headers = {"Host": f"127.0.0.1:{self.port}", "Content-Type": "application/x-www-form-urlencoded", "Cookie": self.cookie}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        self.cookie = (response.getheader("Set-Cookie") or self.cookie).partition(";")[0]
        status, text = response.status, response.read().decode("utf-8", "replace")
        connection.close()
        return status, text

    def preview(self, form) -> str:
        status, page = self.ask("POST", "/", {**form, "token": self.token, "action": "preview"})
        assert status == 200, page
        return re.search(r'name="previewed" value="([0-9a-f]{64})"', page)[1]

    def issue(self, form, fingerprint) -> tuple[int, str]:
        return self.ask("POST", "/", {**form, "token": self.token, "action": "issue", "previewed": fingerprint})


def _infant(n: int) -> dict:
    return example_form("standard-risk.toml") | SHEET | {"patient.id": f"MRN-20000{n}", "patient.name": f"Parallel{n}, Baby"}


@pytest.fixture
def server(tmp_path, pool):
    out = tmp_path / "sheets"
    out.mkdir()
    made, _ = make_server("127.0.0.1", 0, out, None, printer=pool)
    stop = serving.start(made)
    yield made.effective_port, out
    stop()


def test_issues_at_once_through_the_real_server_each_get_their_own_sheets(server):
    port, out = server
    page, infants = _Form(port), range(3)
    fingerprints = {n: page.preview(_infant(n)) for n in infants}
    cache = out / ".layout-cache"
    _wait_until(lambda: cache.is_dir() and len(list(cache.glob("*.pdf-entry"))) == 12, 300, "the previews were not laid out ahead")
    for entry in cache.iterdir():  # no head start: every request lays its own documents out now
        entry.unlink()
    answers = _at_once(lambda n: page.issue(_infant(n), fingerprints[n]), infants, 300)
    for n in infants:
        status, said = answers[n]
        assert status == 200 and f"MRN-20000{n}_induction_2026-06-01_orders.pdf" in said, said[-2000:]
        issued = sorted(out.glob(f"MRN-20000{n}_*.pdf"))
        assert [p.name.rpartition("_")[2] for p in issued] == ["administration-record.pdf", "calendar.pdf", "intrathecal.pdf",
                                                               "orders.pdf"]
        for path in issued:
            text = _text(path.read_bytes())
            assert f"MRN-20000{n}" in text and not any(f"MRN-20000{m}" in text for m in infants if m != n)


def _issues(out: Path) -> int:
    import sqlite3

    if not (out / "issue-log.sqlite").exists():
        return 0
    with sqlite3.connect(out / "issue-log.sqlite") as db:
        return db.execute("SELECT count(*) FROM issues").fetchone()[0]


class _Killing:
    """The server's printer, killed with SIGKILL 0.3 s into the request's layout (the induction's takes seconds)."""

    def __init__(self, pool):
        self.pool = pool

    def lay_out(self, htmls, cache=None):
        threading.Timer(0.3, os.kill, (self.pool.pid, signal.SIGKILL)).start()
        return self.pool.lay_out(htmls, None)

    def lay_out_ahead(self, htmls, cache):
        pass


def test_a_printer_killed_during_an_issue_writes_no_sheet_and_says_so(tmp_path):
    out = tmp_path / "sheets"
    out.mkdir()
    printer = PrinterPool()
    printer.start(wait=True)
    try:
        client = create_app(out, printer=_Killing(printer)).test_client()
        token = re.search(r'name="token" value="([^"]+)"', client.get("/").get_data(as_text=True))[1]
        form = _infant(9) | {"token": token}
        previewed = re.search(r'name="previewed" value="([0-9a-f]{64})"',
                              client.post("/", data={**form, "action": "preview"}).get_data(as_text=True))[1]
        answer = client.post("/", data={**form, "action": "issue", "previewed": previewed})
        assert answer.status_code == 503
        assert "the PDF printer stopped while laying out these sheets, so nothing was written" in answer.get_data(as_text=True)
        assert not list(out.glob("*.pdf")) and _issues(out) == 0
        again = create_app(out, printer=printer).test_client()  # the same server's next request: a new printer
        token = re.search(r'name="token" value="([^"]+)"', again.get("/").get_data(as_text=True))[1]
        form = _infant(9) | {"token": token}
        previewed = re.search(r'name="previewed" value="([0-9a-f]{64})"',
                              again.post("/", data={**form, "action": "preview"}).get_data(as_text=True))[1]
        assert again.post("/", data={**form, "action": "issue", "previewed": previewed}).status_code == 200
        assert len(list(out.glob("MRN-200009_*.pdf"))) == 4 and _issues(out) == 1
    finally:
        printer.stop()


def test_an_issue_after_its_preview_finds_its_documents_laid_out_and_verifies(server, run):
    port, out = server
    page, form = _Form(port), _infant(5)
    started = time.perf_counter()
    fingerprint = page.preview(form)
    previewed = time.perf_counter() - started
    cache = out / ".layout-cache"
    _wait_until(lambda: cache.is_dir() and len(list(cache.glob("*.pdf-entry"))) == 4, 120, "the preview's documents were not laid out ahead")
    kept = {p.read_bytes().partition(b"\n\n")[2] for p in cache.glob("*.pdf-entry")}
    started = time.perf_counter()
    status, said = page.issue(form, fingerprint)
    issued = time.perf_counter() - started
    assert status == 200, said
    made = sorted(out.glob("MRN-200005_*.pdf"))
    assert {p.read_bytes() for p in made} == kept  # the very bytes laid out ahead: exactly what the Issue would print
    for path in made:
        assert run("verify", path)[0] == 0  # dosing verify checks them against the issue log
    assert ".layout-cache" not in said and ".pdf-entry" not in said  # the page lists only issued sheets
    assert page.ask("GET", f"/sheets/{made[0].name}")[0] == 200  # with the page's cookie, an issued sheet is handed out
    entry = next(cache.glob("*.pdf-entry")).name
    for name in (".layout-cache", entry, f".layout-cache%2F{entry}"):
        assert page.ask("GET", f"/sheets/{name}")[0] == 404, name  # the cache is never handed out
    print(f"\npage: preview {previewed:.2f} s; Issue after it (documents laid out ahead) {issued:.2f} s")


def _serve(out: Path) -> tuple[subprocess.Popen, int]:
    process = subprocess.Popen([sys.executable, "-m", "dosing", "serve", "--port", "0", "--out", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    assert "in your browser" in line, line + process.stderr.read()
    # (WeasyPrint's start runs ldconfig: a child of the printer that is not a worker)
    _wait_until(lambda: [len(_children(p)) for p in _children(process.pid)] == [os.cpu_count()], 120,
                "the printer never started its workers")
    return process, int(re.search(r":(\d+)/", line)[1])


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL])
def test_stopping_the_server_stops_its_printer_and_workers(tmp_path, how):
    process, port = _serve(tmp_path / "sheets")
    try:
        (printer,) = _children(process.pid)
        workers = _children(printer)
        assert _Form(port).ask("GET", "/")[0] == 200
        process.send_signal(how)
        process.wait(60)
    finally:
        process.kill()
        process.wait()
    if how == signal.SIGINT:
        assert process.returncode == 0
    for pid in (printer, *workers):
        _wait_until(lambda: not _running(pid), 15, f"process {pid} outlived the server")


def test_a_team_order_issued_after_its_prepare_finds_its_drafts_laid_out(database_url, tmp_path, pool):
    from datetime import date

    from dosing import pharmacy
    from dosing.documents.layout_cache import LayoutCache
    from dosing.printing.pool import Layout
    from dosing.regimen import load_protocol
    from dosing.requests import Request
    from dosing.store import accounts, open_database, orders

    db = open_database(database_url)
    try:
        for name in ("anna", "boris"):
            accounts.add_user(db, name, "pharmacist", "correct horse battery")
        anna, boris = (accounts.SessionUser(name=n, role="pharmacist", csrf_token="", session_id=0) for n in ("anna", "boris"))
        out = tmp_path / "sheets"
        out.mkdir()
        layout = Layout(pool, LayoutCache.inside(out))
        text = (Path(__file__).parent.parent / "examples" / "standard-risk.toml").read_text(encoding="utf-8")
        request = Request(start=date(2026, 6, 1), out=tmp_path / "scratch")
        order = pharmacy.prepare_order(db, anna, load_protocol(None), text, "induction", request, layout)
        cache = out / ".layout-cache"
        _wait_until(lambda: cache.is_dir() and len(list(cache.glob("*.pdf-entry"))) == 4, 120, "the drafts were not laid out ahead")
        kept = {p.read_bytes().partition(b"\n\n")[2] for p in cache.glob("*.pdf-entry")}
        orders.verify(db, boris, order.id)
        started = time.perf_counter()
        issued = pharmacy.issue_order(db, anna, order.id, layout)
        took = time.perf_counter() - started
        assert issued.state == "issued"
        assert {orders.document(db, d["name"])[1] for d in issued.documents} == kept  # the drafts' very layouts
        print(f"\nteam server: an order issued after its prepare laid its drafts out ahead: {took:.2f} s")
    finally:
        db.dispose()


class _Clock:
    """datetime with its now() moved on by `ahead`, for the page's code only (the modules that ask it the time)."""

    def __init__(self, monkeypatch):
        import datetime as real

        clock = self

        class Moved(real.datetime):
            @classmethod
            def now(cls, tz=None):
                return real.datetime.now(tz) + clock.ahead

        self.ahead = real.timedelta(0)
        monkeypatch.setattr("dosing.web.actions.datetime", Moved)
        monkeypatch.setattr("dosing.documents.datetime", Moved)


def _produced(pdf: bytes) -> str:
    return " ".join(re.search(r"produced (\d\d \w\w\w \d{4})\s+(\d\d:\d\d)", _text(pdf)).groups())


@pytest.mark.parametrize("later, same", [(61, True), (16 * 60, False)])
def test_an_issue_after_its_preview_issues_the_sheets_it_showed(tmp_path, pool, monkeypatch, later, same):
    """A sheet prints the minute it was produced: an Issue a minute after its preview still issues the previewed
    sheets (their layout from the cache); a quarter of an hour later, the sheets are produced anew."""
    from datetime import timedelta

    out = tmp_path / "sheets"
    out.mkdir()
    clock = _Clock(monkeypatch)
    client = create_app(out, printer=pool).test_client()
    token = re.search(r'name="token" value="([^"]+)"', client.get("/").get_data(as_text=True))[1]
    form = _infant(7) | {"token": token}
    page = client.post("/", data={**form, "action": "preview"}).get_data(as_text=True)
    shown = re.search(r"produced (\d\d \w\w\w \d{4} \d\d:\d\d)", page)[1]
    previewed = re.search(r'name="previewed" value="([0-9a-f]{64})"', page)[1]
    cache = out / ".layout-cache"
    _wait_until(lambda: cache.is_dir() and len(list(cache.glob("*.pdf-entry"))) == 4, 120, "the preview was not laid out ahead")
    kept = {p.read_bytes().partition(b"\n\n")[2] for p in cache.glob("*.pdf-entry")}
    clock.ahead = timedelta(seconds=later)
    assert client.post("/", data={**form, "action": "issue", "previewed": previewed}).status_code == 200
    made = sorted(out.glob("MRN-200007_*.pdf"))
    assert len(made) == 4
    assert ({p.read_bytes() for p in made} == kept) is same
    assert {_produced(p.read_bytes()) for p in made} == ({shown} if same else {_produced(made[0].read_bytes())})
    if not same:
        assert _produced(made[0].read_bytes()) != shown


def test_a_team_order_whose_printer_is_killed_stays_verified_with_no_document(database_url, tmp_path):
    from datetime import date

    from dosing import pharmacy
    from dosing.printing.pool import Layout
    from dosing.regimen import load_protocol
    from dosing.requests import Request
    from dosing.store import accounts, open_database, orders

    printer = PrinterPool()
    printer.start(wait=True)
    db = open_database(database_url)
    try:
        for name in ("anna", "boris"):
            accounts.add_user(db, name, "pharmacist", "correct horse battery")
        anna, boris = (accounts.SessionUser(name=n, role="pharmacist", csrf_token="", session_id=0) for n in ("anna", "boris"))
        text = (Path(__file__).parent.parent / "examples" / "standard-risk.toml").read_text(encoding="utf-8")
        order = pharmacy.prepare_order(db, anna, load_protocol(None), text, "induction", Request(start=date(2026, 6, 1), out=tmp_path))
        orders.verify(db, boris, order.id)
        with pytest.raises(PrinterError, match="nothing was written"):
            pharmacy.issue_order(db, anna, order.id, Layout(_Killing(printer)))
        after = orders.get_order(db, order.id)
        assert after.state == "verified" and after.documents == []
        issued = pharmacy.issue_order(db, anna, order.id, Layout(printer))  # the next try, on a new printer
        assert issued.state == "issued" and len(issued.documents) == 4
    finally:
        db.dispose()
        printer.stop()
