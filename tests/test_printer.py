"""The printer process: PDFs come back in the order sent, and a failure is an error, never a hang."""

import io
import os
import time

import pytest
from pypdf import PdfReader

from dosing.printer import Printer, PrinterError
from dosing.printing import process


def _page(text: str) -> str:
    return f"<!DOCTYPE html><html><body><p>{text}</p></body></html>"


def _text(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_pdfs_come_back_in_the_order_submitted_across_patients():
    # A long document is sent first in the second batch; the pool lays it out
    # first, but the answers must still line up with what was sent.
    long = "<br>".join(f"line {i}" for i in range(300))
    sheets = Printer(workers=2)
    sheets.submit([_page("first patient orders"), _page("first patient calendar")])
    sheets.submit([_page("second patient orders"), _page(long)])
    made = sheets.collect()
    assert [m[:5] for m in made] == [b"%PDF-"] * 4
    assert "first patient orders" in _text(made[0])
    assert "first patient calendar" in _text(made[1])
    assert "second patient orders" in _text(made[2])
    assert "line 299" in _text(made[3])


def _die(html, cache=None):
    os._exit(9)


def test_a_worker_that_dies_is_an_error_not_a_hang(monkeypatch):
    # The worker is forked from this process, so it runs the patched layout and dies.
    monkeypatch.setattr(process, "lay_out", _die)
    sheets = Printer(workers=1)
    sheets.submit([_page("never printed")])
    started = time.monotonic()
    with pytest.raises(PrinterError, match="printer failed: a layout worker of the PDF printer stopped"):
        sheets.collect()
    assert time.monotonic() - started < 60


def test_results_give_each_submit_its_own_pdfs_in_order_as_they_are_ready():
    sheets = Printer(workers=2)
    long = "<br>".join(f"line {i}" for i in range(300))
    sheets.submit([_page(long), _page("first patient calendar")])
    sheets.submit([])
    sheets.submit([_page("third patient orders")])
    stream = sheets.results()
    first = next(stream)
    assert [("line 299" in _text(first[0])), ("first patient calendar" in _text(first[1]))] == [True, True]
    assert next(stream) == []
    (third,) = next(stream)
    assert "third patient orders" in _text(third)
    with pytest.raises(StopIteration):
        next(stream)
    with pytest.raises(ChildProcessError):  # the printer stopped and was waited for after the last batch
        os.waitpid(sheets._pid, os.WNOHANG)


def test_a_document_weasyprint_refuses_is_an_error_for_its_patient():
    sheets = Printer(workers=1)
    sheets.submit([_page("fine")])
    sheets.submit([_page("fetches").replace("<p>", '<img src="file:///etc/passwd"><p>')])
    stream = sheets.results()
    assert "fine" in _text(next(stream)[0])
    with pytest.raises(PrinterError):
        next(stream)


def test_cancel_returns_at_once_and_the_printer_leaves_by_itself():
    sheets = Printer(workers=1)
    pid = sheets._pid
    started = time.monotonic()
    sheets.cancel()
    assert time.monotonic() - started < 0.1
    deadline = time.monotonic() + 30
    while os.waitpid(pid, os.WNOHANG) == (0, 0):
        assert time.monotonic() < deadline, "the printer did not leave after the command cancelled it"
        time.sleep(0.05)


def test_without_fork_the_pdfs_are_laid_out_in_process(monkeypatch):
    monkeypatch.delattr(os, "fork")
    sheets = Printer()
    sheets.submit([_page("laid out here")])
    (made,) = sheets.collect()
    assert "laid out here" in _text(made)


def test_a_printer_with_a_layout_cache_reads_back_what_it_laid_out_before(tmp_path):
    from dosing.documents.layout_cache import LayoutCache

    cache = LayoutCache.inside(tmp_path)
    first = Printer(workers=2, cache=cache)
    first.submit([_page("orders"), _page("calendar")])
    laid = first.collect()
    assert sorted(p.name for p in cache.folder.iterdir()) == sorted(f"{cache.key(h)}.pdf-entry"
                                                                  for h in (_page("orders"), _page("calendar")))
    again = Printer(workers=2, cache=cache)
    again.submit([_page("calendar"), _page("orders"), _page("new")])
    made = again.collect()
    assert made[:2] == [laid[1], laid[0]] and "new" in _text(made[2])
    assert len(list(cache.folder.iterdir())) == 3


# -- how the command line's printer starts, against the web server's ------------------------------------


def _layouts_logged(monkeypatch, log):
    # Patched in this process, so the printer forked from it, and its workers, lay out through it.
    from dosing.documents import render

    real = render.pdf_from_html

    def logged(html, cache=None):
        with open(log, "a") as file:
            file.write("warm-up page\n" if render._WARM_UP.partition("<body>")[2][:200] in html else "sheet\n")
        return real(html, cache)

    monkeypatch.setattr(render, "pdf_from_html", logged)


def test_the_command_lines_printer_lays_out_no_warm_up_page(monkeypatch, tmp_path):
    _layouts_logged(monkeypatch, tmp_path / "log")
    sheets = Printer(workers=1)
    sheets.submit([_page("orders")])
    (made,) = sheets.collect()  # the printer has started, laid out and left
    assert "orders" in _text(made) and (tmp_path / "log").read_text().split("\n") == ["sheet", ""]


def test_the_web_servers_printer_still_warms_up_before_it_is_ready(monkeypatch, tmp_path):
    # The server's printer runs process.main on a socket it is handed (dosing.printing.pool); run that entry point
    # in a forked child, laying out through the logger, and wait for it to say it is ready.
    import socket
    import sys

    from multiprocessing.connection import Connection

    _layouts_logged(monkeypatch, tmp_path / "log")
    ours, theirs = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        try:
            ours.close()
            sys.argv = ["printer", str(theirs.fileno()), "1"]
            process.main()
        finally:
            os._exit(0)
    theirs.close()
    connection = Connection(ours.detach())
    try:
        assert connection.poll(120) and connection.recv() == ("ready",)
        assert (tmp_path / "log").read_text() == "warm-up page\n"
    finally:
        connection.close()  # the printer sees it close and leaves
        os.waitpid(pid, 0)


def _logged(html, cache=None):
    with open(os.environ["DOSING_TEST_LAYOUT_LOG"], "a") as log:
        log.write(html[html.index("<p>") + 3:html.index("<p>") + 9] + "\n")
    return _real_lay_out(html, cache)


_real_lay_out = process.lay_out


def test_a_patients_document_with_the_most_elements_is_laid_out_first_not_the_longest_text(monkeypatch, tmp_path):
    # Layout works through elements: a page of many short lines takes longer than a page of one long paragraph
    # with more characters. Started first, the longest layout ends beside the others on every core.
    monkeypatch.setenv("DOSING_TEST_LAYOUT_LOG", str(tmp_path / "log"))
    monkeypatch.setattr(process, "lay_out", _logged)
    words = _page("words-" + " word" * 2000)
    lines = _page("lines-" + "<br>".join(f"line {i}" for i in range(300)))
    assert len(words) > len(lines) and words.count("<") < lines.count("<")
    sheets = Printer(workers=1)
    sheets.submit([words, lines])
    made = sheets.collect()
    assert "word word" in _text(made[0]) and "line 299" in _text(made[1])  # given back in the order sent
    assert (tmp_path / "log").read_text().split() == ["lines-", "words-"]
