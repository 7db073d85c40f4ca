"""The web server's printer: one long-lived printer process shared by every request thread.

`dosing serve` starts it before waitress starts its threads: a new Python
program (subprocess: fork and exec at once, safe from a process with threads,
unlike a bare fork) that warms WeasyPrint once and forks one layout worker per
core (dosing.printing.process). Each request thread calls `lay_out`, which
sends its documents and waits for exactly its own PDFs, in its own order;
several requests' documents are laid out side by side on every core.

A printer that dies is an error for each request waiting on it (PrinterError,
a sentence the page shows; no sheet is written, nobody waits forever), and
the next request starts a new printer. `stop` stops it with the server; a
printer whose server was killed sees its connection close and leaves, and
its workers leave with it.
"""

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import attrs

from dosing.printer import PrinterError

#: a request waits this long for its PDFs at most; a phase's documents take seconds, the longest
#: (104 weeks of maintenance) well under a minute on a loaded machine, so this is a printer that hangs
WAIT_SECONDS = 300
STOP_SECONDS = 10  #: the printer finishes the layouts it has started, then is killed
STOPPED = ("the PDF printer stopped while laying out these sheets, so nothing was written; "
           "a new printer is starting: press the button again")


class _Waiter:
    def __init__(self):
        self.done = threading.Event()
        self.pdfs: list[bytes] | None = None
        self.error: str | None = None

    def answer(self, pdfs=None, error=None) -> None:
        self.pdfs, self.error = pdfs, error
        self.done.set()


class _Run:
    """One printer process, its connection, and the requests waiting on it."""

    def __init__(self, workers: int, on_exit):
        from multiprocessing.connection import Connection

        ours, theirs = socket.socketpair()
        package = str(Path(__file__).resolve().parents[2])  # the folder holding this dosing package: the printer runs the same code
        code = f"import sys; sys.path.insert(0, {package!r}); from dosing.printing.process import main; main()"
        try:
            self.process = subprocess.Popen([sys.executable, "-I", "-c", code, str(theirs.fileno()), str(workers)],
                                            pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, close_fds=True)
        except OSError as exc:
            ours.close()
            raise PrinterError(f"the PDF printer could not start ({exc.strerror or exc}), so nothing was written") from None
        finally:
            theirs.close()
        self.connection = Connection(ours.detach())
        self.sending = threading.Lock()
        self.waiting: dict[int, _Waiter] = {}
        self.ready = threading.Event()
        self.dead = False
        self._on_exit = on_exit
        threading.Thread(target=self._read, name="dosing-printer-reader", daemon=True).start()

    def send(self, batch: int, htmls: list[str], cache, background: bool) -> _Waiter | None:
        waiter = None if background else _Waiter()
        with self.sending:
            if self.dead:
                raise PrinterError(STOPPED)
            if waiter is not None:
                self.waiting[batch] = waiter
            try:
                self.connection.send(("layout", batch, htmls, cache, background))
            except OSError:
                self.waiting.pop(batch, None)
                raise PrinterError(STOPPED) from None
        return waiter

    def _read(self) -> None:
        """The run's own thread: each answer to the request that waits for it; at the printer's end, every waiter told."""
        try:
            while True:
                message = self.connection.recv()
                if message[0] == "ready":
                    self.ready.set()
                    continue
                with self.sending:
                    waiter = self.waiting.pop(message[1], None)
                if waiter is not None:
                    waiter.answer(pdfs=message[2]) if message[0] == "pdfs" else waiter.answer(error=message[2])
        except (EOFError, OSError):
            pass
        with self.sending:
            self.dead = True
            waiting, self.waiting = self.waiting, {}
        for waiter in waiting.values():
            waiter.answer(error=STOPPED)
        self.connection.close()
        self.process.wait()  # reaped: no zombie left behind
        self._on_exit(self)

    def stop(self) -> None:
        if not self.ready.is_set():  # still warming up: nothing laid out yet, nothing to finish
            self.process.terminate()
        try:
            with self.sending:
                self.connection.send(("stop",))
        except OSError:
            pass
        try:
            self.process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class PrinterPool:
    """Thread-safe: any number of request threads may call `lay_out` at once."""

    def __init__(self, workers: int | None = None):
        self._workers = workers or os.cpu_count() or 1
        self._lock = threading.Lock()
        self._run: _Run | None = None
        self._batches = 0
        self._stopped = False

    def start(self, wait: bool = False) -> None:
        """Start the printer (if it is not running); with wait, return when it is warm."""
        run = self._current()
        if wait:
            run.ready.wait(WAIT_SECONDS)

    @property
    def pid(self) -> int | None:
        """The printer process's id, while one runs."""
        run = self._run
        return run.process.pid if run is not None and not run.dead else None

    def lay_out(self, htmls: list[str], cache=None) -> list[bytes]:
        """The PDFs of these documents, in their order; PrinterError if the printer fails or stops."""
        if not htmls:
            return []
        run, batch = self._current(), self._number()
        waiter = run.send(batch, list(htmls), cache, False)
        if not waiter.done.wait(WAIT_SECONDS):
            run.process.kill()  # a printer that hangs is a printer that died: the next request gets a new one
            raise PrinterError(f"the PDF printer did not answer in {WAIT_SECONDS} s, so nothing was written; "
                               "a new printer is starting: press the button again")
        if waiter.error is not None:
            raise PrinterError(waiter.error if waiter.error == STOPPED else f"the PDF printer failed: {waiter.error}")
        return waiter.pdfs

    def lay_out_ahead(self, htmls: list[str], cache) -> None:
        """Lay these out into `cache` when the cores are otherwise idle, for a request that may ask for them soon."""
        if htmls and cache is not None:
            try:
                self._current().send(self._number(), list(htmls), cache, True)
            except PrinterError:
                pass  # only a head start lost; the request that needs them will say so

    def stop(self) -> None:
        """Stop the printer and its workers, and start no other."""
        with self._lock:
            self._stopped, run, self._run = True, self._run, None
        if run is not None:
            run.stop()

    def _current(self) -> _Run:
        with self._lock:
            if self._stopped:
                raise PrinterError("the PDF printer has been stopped with the server")
            if self._run is None or self._run.dead:
                self._run = _Run(self._workers, self._ended)
            return self._run

    def _ended(self, run: _Run) -> None:
        """A printer that was serving is replaced at once, warm for the next request; one that died
        starting is not (it would die again in a loop): the next request starts one and is told why."""
        with self._lock:
            if self._run is not run:
                return
            self._run = None
            if run.ready.is_set() and not self._stopped:
                try:
                    self._run = _Run(self._workers, self._ended)
                except PrinterError:
                    pass  # the next request tries again, and says why if it cannot

    def _number(self) -> int:
        with self._lock:
            self._batches += 1
            return self._batches


_shared: list[PrinterPool] = []
_sharing = threading.Lock()


def shared() -> PrinterPool:
    """This process's printer for a page made without one (`create_app` in tests and tools), started at
    its first PDF and stopped when the process ends; `dosing serve` starts and stops its own."""
    import atexit

    with _sharing:
        if not _shared:
            _shared.append(PrinterPool())
            atexit.register(_shared[0].stop)
        return _shared[0]


@attrs.frozen
class Layout:
    """What a request thread lays out with: the shared printer and the output folder's layout cache."""

    printer: PrinterPool
    cache: object = None  #: a dosing.documents.layout_cache.LayoutCache, or None

    def pdfs(self, htmls: list[str]) -> list[bytes]:
        return self.printer.lay_out(htmls, self.cache)

    def ahead(self, htmls: list[str]) -> None:
        self.printer.lay_out_ahead(htmls, self.cache)
