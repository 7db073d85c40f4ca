"""The command line's printer: WeasyPrint made ready in a child process while the doses are computed.

A PDF command spends about half a second importing WeasyPrint, and about as
long again computing the doses and rendering the HTML. Neither needs the
other, so `dosing sheet` starts the printer first: a forked child
(dosing.printing.process) imports WeasyPrint and forks one layout worker per
core, all while the parent computes. It lays out no warm-up page (the web
server's long-lived printer does): here that would cost more than it saves.
The parent then sends each patient's HTML as soon as it is rendered, and gets
each patient's PDFs back as soon as they are laid out (`results`), so no PDF
is kept longer than it takes to write it. With a layout cache, a document laid
out before from the same HTML by the same renderer is read back instead
(dosing.documents.layout_cache).

Where processes cannot be forked (Windows), the printer lays out in-process.
The web server shares one long-lived printer between its requests instead
(dosing.printing.pool).
"""

import os
import sys
from collections.abc import Iterator


class PrinterError(RuntimeError):
    """The printer process failed; no sheet is written."""


class Printer:
    """Usage: submit(...) once per patient, then iterate results() (or collect() for everything at once).

    `cache` is a dosing.documents.layout_cache.LayoutCache, or None to lay out every document.
    """

    def __init__(self, workers: int | None = None, cache=None):
        from multiprocessing import Pipe

        self._cache = cache
        self._submitted = 0  # batches sent
        self._answered = 0  # batches given back
        self._local: list[list[str]] | None = None
        if not hasattr(os, "fork"):
            self._local = []
            return
        self._connection, theirs = Pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        self._pid = os.fork()
        if self._pid == 0:  # the printer: never returns into the command's code
            status = 1
            try:
                self._connection.close()
                from dosing.printing.process import serve

                serve(theirs, workers or os.cpu_count() or 1, warm=False)  # no warm-up page: the HTML would wait for it
                status = 0
            finally:
                os._exit(status)
        theirs.close()

    def submit(self, htmls: list[str]) -> None:
        """Queue one patient's documents for layout, behind those already queued.

        All of them at once, rather than each as it is rendered: the printer then starts the longest
        first (dosing.printing.process), which matters more than the few milliseconds the last
        document takes to render (measured: README, Speed)."""
        if self._local is not None:
            self._local.append(list(htmls))
            return
        try:
            self._connection.send(("layout", self._submitted, list(htmls), self._cache, False))
        except OSError as exc:
            raise PrinterError(f"the PDF printer process stopped ({exc or type(exc).__name__})") from None
        self._submitted += 1

    def results(self) -> Iterator[list[bytes]]:
        """For each submit, in the order submitted, that submit's PDFs (in the order of its htmls),
        each as soon as it is laid out; the printer stops after the last one, or at a failure
        (PrinterError) or when the loop is left early."""
        if self._local is not None:
            yield from self._lay_out_here()
            return
        early: dict[int, list[bytes]] = {}  # batches finished before one submitted earlier
        try:
            while self._answered < self._submitted:
                while self._answered not in early:
                    message = self._receive()
                    if message[0] == "pdfs":
                        early[message[1]] = message[2]
                    elif message[0] == "error":
                        raise PrinterError(f"the PDF printer failed: {message[2]}")
                pdfs = early.pop(self._answered)
                self._answered += 1
                yield pdfs
                del pdfs
        finally:
            self._stop()

    def collect(self) -> list[bytes]:
        """Every PDF submitted, in the order submitted; then the printer stops."""
        return [pdf for pdfs in self.results() for pdf in pdfs]

    def cancel(self) -> None:
        """Stop without printing (every patient was refused): the printer sees the
        connection close, finishes warming up and leaves; nobody waits for it."""
        if self._local is None and not self._connection.closed:
            self._connection.close()
        self._local = []

    def _receive(self):
        try:
            return self._connection.recv()
        except (EOFError, OSError) as exc:
            raise PrinterError(f"the PDF printer process stopped ({exc or type(exc).__name__})") from None

    def _stop(self) -> None:
        if self._local is not None or self._connection.closed:
            return
        self._connection.close()
        os.waitpid(self._pid, 0)
        self._local = []  # nothing left to cancel or print

    def _lay_out_here(self) -> Iterator[list[bytes]]:
        from dosing.printing.process import lay_out

        while self._local:
            yield [lay_out(html, self._cache) for html in self._local.pop(0)]
