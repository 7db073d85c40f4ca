"""The printer's own process: WeasyPrint warmed once, one layout worker per core.

Whoever starts it (the command line forks it, the web server starts it as a
new program: dosing.printing.pool) talks to it over one connection:

    in:  ("layout", batch, htmls, cache)   lay these out; batch is the sender's number for them
         ("stop",)                         finish and leave (so does a closed connection)
    out: ("ready",)                        warm, workers started
         ("pdfs", batch, pdfs)             every PDF of that batch, in the order of its htmls
         ("error", batch, sentence, broken) that batch failed; broken: the printer cannot go on

A batch is answered as soon as its last document is laid out, so batches
from several senders interleave and a short one never waits behind a long
one. The printer keeps a batch's PDFs only until they are sent.
"""

import gc
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool


def serve(connection, workers: int) -> None:
    """Warm up, then lay out what arrives until the connection closes or asks to stop."""
    import multiprocessing

    from dosing.documents.render import warm_up

    warm_up()
    sending = threading.Lock()

    def send(message) -> None:
        with sending:
            try:
                connection.send(message)
            except OSError:  # the sender has gone; nobody is waiting for this
                pass

    # Forked here, while this process has one thread: the workers start warm.
    # ProcessPoolExecutor notices a worker dying (BrokenProcessPool) rather than waiting forever.
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=_worker_starts, initargs=(connection, os.getpid()))
    try:
        pool.submit(gc.collect).result()  # fork every worker now, before any work arrives
        send(("ready",))
        while True:
            try:
                message = connection.recv()
            except (EOFError, OSError):
                break
            if message[0] != "layout":
                break
            _, batch, htmls, cache = message
            _Batch(batch, len(htmls), send).start(pool, htmls, cache)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        connection.close()


class _Batch:
    """One sender's documents: answered once, when the last is laid out or the first fails."""

    def __init__(self, number: int, size: int, send):
        self.number, self.send = number, send
        self.pdfs: list[bytes | None] = [None] * size
        self.left = size
        self.lock = threading.Lock()

    def start(self, pool, htmls: list[str], cache) -> None:
        if not htmls:
            self.send(("pdfs", self.number, []))
            return
        # The largest first, so the cores finish together.
        for place in sorted(range(len(htmls)), key=lambda i: -len(htmls[i])):
            try:
                job = pool.submit(lay_out, htmls[place], cache)
            except RuntimeError as exc:  # the pool is broken or shut down
                self.fail(exc, broken=True)
                return
            job.add_done_callback(lambda job, place=place: self.done(place, job))

    def done(self, place: int, job) -> None:
        if job.cancelled():
            self.fail(RuntimeError("the printer was stopped"), broken=True)
            return
        failure = job.exception()
        if failure is not None:
            self.fail(failure, broken=isinstance(failure, BrokenProcessPool))
            return
        with self.lock:
            if self.left <= 0:  # already failed
                return
            self.pdfs[place] = job.result()
            self.left -= 1
            finished = self.left == 0
        if finished:
            pdfs, self.pdfs = self.pdfs, []
            self.send(("pdfs", self.number, pdfs))

    def fail(self, failure: BaseException, broken: bool) -> None:
        with self.lock:
            if self.left <= 0:
                return
            self.left, self.pdfs = 0, []
        sentence = ("a layout worker of the PDF printer stopped" if isinstance(failure, BrokenProcessPool)
                    else f"{type(failure).__name__}: {failure}")
        self.send(("error", self.number, sentence, broken))


def lay_out(html: str, cache=None) -> bytes:
    from dosing.documents.render import pdf_from_html

    return pdf_from_html(html, cache)


def _worker_starts(connection, printer: int) -> None:
    # The worker's copy of the printer's connection is closed, so the printer's
    # end sees the printer itself leave, not a worker still holding it open.
    connection.close()
    # Layout makes millions of short-lived objects and few cycles; collecting
    # less often saves about a tenth of the layout time. Objects inherited from
    # the printer are frozen, so collections never walk them.
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    threading.Thread(target=_leave_with, args=(printer,), daemon=True).start()


def _leave_with(printer: int) -> None:
    """A worker whose printer was killed leaves within half a second rather than lingering as an orphan."""
    import time

    while os.getppid() == printer:
        time.sleep(0.5)
    os._exit(0)
