"""The printer's own process: WeasyPrint imported once, one layout worker per core forked from it.

Whoever starts it (the command line forks it: dosing.printer; the web server
starts it as a new program: dosing.printing.pool) talks to it over one connection:

    in:  ("layout", batch, htmls, cache, background)  lay these out; batch is the sender's number for them
         ("stop",)                                    finish and leave (so does a closed connection)
    out: ("ready",)                                   workers started (and warm, if asked to warm up)
         ("pdfs", batch, pdfs)                        every PDF of that batch, in the order of its htmls
         ("error", batch, sentence)                   that batch failed

A batch is answered as soon as its last document is laid out, so batches
from several senders interleave and a short one never waits behind a long
one; its PDFs are kept only until they are sent. A background batch (a
preview's documents laid out ahead, into the cache, for the Issue that may
follow) is never answered and gives way to every other batch. The same
document asked for twice while it is being laid out is laid out once. A
worker that dies breaks the pool: every batch waiting is told, and the
printer leaves, so that its starter sees it go (and may start another).
"""

import gc
import heapq
import itertools
import os
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from dosing.printing.loading import import_weasyprint

BROKEN = "a layout worker of the PDF printer stopped"


def main() -> None:
    """`python -c "...; main()" FD WORKERS`: the web server's printer, on the socket it passed down (dosing.printing.pool)."""
    from multiprocessing.connection import Connection

    serve(Connection(int(sys.argv[1])), int(sys.argv[2]))


def serve(connection, workers: int, warm: bool = True) -> None:
    """WeasyPrint imported, the sheets' stylesheet parsed (and with `warm`, a warm-up page laid out), the
    workers forked, then lay out what arrives until the connection closes or asks to stop.

    The web server's printer lives for hours, so it lays out the warm-up page once. The command line's lives
    for one command and does not: the page costs about 0.3 s before the workers can start and saves them
    about 0.03 s each on their first document (measured in fresh processes), so the command's HTML would
    wait for it."""
    import multiprocessing

    import_weasyprint()  # as fast as it can be (dosing.printing.loading)
    from dosing.documents.render import warm_up

    warm_up(page=warm)  # the stylesheet parsed here, once, rather than by every worker
    # Forked here, while this process has one thread: the workers start with WeasyPrint imported (and warm, if it is).
    # ProcessPoolExecutor notices a worker dying (BrokenProcessPool) rather than waiting forever.
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=_worker_starts, initargs=(connection, os.getpid()))
    pool.submit(gc.collect).result()  # fork every worker now, before any work arrives or any thread starts
    scheduler = _Scheduler(pool, workers, _Sender(connection))
    scheduler.sender.send(("ready",))
    threading.Thread(target=scheduler.dispatch, daemon=True).start()
    try:
        while True:
            try:
                message = connection.recv()
            except (EOFError, OSError):
                break
            if message[0] != "layout":
                break
            _, batch, htmls, cache, background = message
            scheduler.add(batch, htmls, cache, background)
    finally:
        scheduler.stop()
        pool.shutdown(wait=True, cancel_futures=True)
        connection.close()


class _Sender:
    def __init__(self, connection):
        self.connection, self.lock = connection, threading.Lock()

    def send(self, message) -> None:
        with self.lock:
            try:
                self.connection.send(message)
            except OSError:  # the sender has gone; nobody is waiting for this
                pass


class _Batch:
    """One request's documents: answered once, when the last is laid out or the first fails."""

    def __init__(self, number: int, size: int, background: bool, sender: _Sender):
        self.number, self.background, self.sender = number, background, sender
        self.pdfs: list[bytes | None] = [None] * size
        self.left = size

    def done(self, place: int, pdf: bytes) -> None:  # called with the scheduler's lock held
        if self.left <= 0:
            return
        self.pdfs[place] = pdf
        self.left -= 1
        if self.left == 0 and not self.background:
            pdfs, self.pdfs = self.pdfs, []
            self.sender.send(("pdfs", self.number, pdfs))

    def fail(self, sentence: str) -> None:
        if self.left <= 0:
            return
        self.left, self.pdfs = 0, []
        if not self.background:
            self.sender.send(("error", self.number, sentence))


class _Job:
    def __init__(self, html: str, cache, rank: tuple):
        self.html, self.cache, self.rank = html, cache, rank
        self.waiters: list[tuple[_Batch, int]] = []
        self.started = False


class _Scheduler:
    """Documents handed to the workers one per free core, the most wanted first:
    foreground before background, earlier batches before later, within a batch the longest to lay out first
    (so the cores finish together)."""

    def __init__(self, pool, workers: int, sender: _Sender):
        self.pool, self.workers, self.sender = pool, workers, sender
        self.changed = threading.Condition()
        self.queue: list[tuple] = []
        self.jobs: dict[tuple, _Job] = {}  # (cache, html) -> its job, until laid out
        self.running = 0
        self.arrivals = itertools.count()
        self.stopping = False

    def add(self, number: int, htmls: list[str], cache, background: bool) -> None:
        batch = _Batch(number, len(htmls), background, self.sender)
        if not htmls:
            if not background:
                self.sender.send(("pdfs", number, []))
            return
        arrival = next(self.arrivals)
        with self.changed:
            for place, html in enumerate(htmls):
                rank = (int(background), arrival, -_elements(html))
                job = self.jobs.get((cache, html))
                if job is None:
                    job = self.jobs[(cache, html)] = _Job(html, cache, rank)
                    heapq.heappush(self.queue, (rank, id(job), job))
                elif not job.started and rank < job.rank:  # wanted sooner now: moved up the queue
                    job.rank = rank
                    heapq.heappush(self.queue, (rank, id(job), job))
                job.waiters.append((batch, place))
            self.changed.notify()

    def dispatch(self) -> None:
        """The scheduler's own thread: start the next job whenever a worker is free."""
        while True:
            with self.changed:
                while not self.stopping and (self.running >= self.workers or not self.queue):
                    self.changed.wait()
                if self.stopping:
                    return
                rank, _, job = heapq.heappop(self.queue)
                if job.started or rank != job.rank:  # a stale entry of a job moved up
                    continue
                job.started = True
                self.running += 1
            try:
                future = self.pool.submit(lay_out, job.html, job.cache)
            except RuntimeError:  # the pool broke or is shutting down
                self.broken()
                return
            future.add_done_callback(lambda future, job=job: self.finished(job, future))

    def finished(self, job: _Job, future) -> None:
        failure = None if future.cancelled() else future.exception()
        if future.cancelled() or isinstance(failure, BrokenProcessPool):
            self.broken()
            return
        with self.changed:
            self.running -= 1
            self.jobs.pop((job.cache, job.html), None)
            for batch, place in job.waiters:
                if failure is None:
                    batch.done(place, future.result())
                else:
                    batch.fail(f"{type(failure).__name__}: {failure}")
            job.waiters = []
            self.changed.notify()

    def broken(self) -> None:
        """Every batch waiting is told, and the printer leaves: a broken pool lays out nothing more."""
        with self.changed:
            if not self.stopping:
                for job in self.jobs.values():
                    for batch, _ in job.waiters:
                        batch.fail(BROKEN)
                self.jobs.clear()
        if not self.stopping:
            os._exit(3)

    def stop(self) -> None:
        with self.changed:
            self.stopping = True
            self.changed.notify()


def _elements(html: str) -> int:
    """How long a document takes to lay out, roughly: its tags. Over 17 documents of four phases, layout time
    follows the tags (correlation 0.79, 26 of 28 pairs within a phase in the right order) better than the length
    (0.60, 24 of 28): the induction's order sheet is the longest text, but its administration record, with twice
    the tags, takes half as long again to lay out, and is the one to start first."""
    return html.count("<")


def lay_out(html: str, cache=None) -> bytes:
    from dosing.documents.render import pdf_from_html

    # The workers collect rarely (below), so a document's garbage would stay on the heap for the next one and a
    # worker's memory would grow with the batch (+2 MB an infant, 242 MB for 50): one full collection before each
    # document, of the one before's garbage, keeps it flat (82-90 MB for 25 or 50 infants). Before rather than after,
    # so that no PDF waits for it (about 35 ms after the administration record): the last document's comes back at once.
    gc.collect()
    return pdf_from_html(html, cache)


def _worker_starts(connection, printer: int) -> None:
    # The worker's copy of the printer's connection is closed, so the printer's
    # starter sees the printer itself leave, not a worker still holding it open.
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
