"""The printer: WeasyPrint made ready in a child process while the doses are computed.

A PDF command spends about half a second importing WeasyPrint and loading
fonts, and about as long again computing the doses and rendering the HTML.
Neither needs the other, so `dosing sheet` starts the printer first: a forked
child imports WeasyPrint, lays out a small warm-up page (fonts loaded, caches
full) and forks one layout worker per core, all while the parent computes.
The parent then sends each patient's HTML as soon as it is ready, and gets the
PDFs back in the order it sent them. Layout itself is the same function the
command line uses everywhere else (`dosing.documents.render.pdf_from_html`).

Where processes cannot be forked (Windows), the printer lays out in-process.
"""

import gc
import os
import sys


class PrinterError(RuntimeError):
    """The printer process failed; no sheet is written."""


class Printer:
    def __init__(self, workers: int | None = None):
        from multiprocessing import Pipe

        self._sent = 0
        self._local: list[str] | None = None
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
                _serve(theirs, workers or os.cpu_count() or 1)
                status = 0
            finally:
                os._exit(status)
        theirs.close()

    def submit(self, htmls: list[str]) -> None:
        """Queue documents for layout; the largest first, so the cores finish together."""
        if self._local is not None:
            self._local.extend(htmls)
            return
        self._connection.send(("layout", htmls))
        self._sent += len(htmls)

    def collect(self) -> list[bytes]:
        """Every PDF submitted, in the order submitted; then the printer stops."""
        if self._local is not None:
            from dosing.documents.render import pdf_from_html

            return [pdf_from_html(text) for text in self._local]
        try:
            self._connection.send(("collect", None))
            kind, payload = self._connection.recv()
        except (EOFError, OSError) as exc:
            raise PrinterError(f"the PDF printer process stopped ({exc or type(exc).__name__})") from None
        finally:
            self._connection.close()
            os.waitpid(self._pid, 0)
            self._local = []  # nothing left to cancel
        if kind != "pdfs" or len(payload) != self._sent:
            raise PrinterError(f"the PDF printer failed: {payload}")
        return payload

    def cancel(self) -> None:
        """Stop without printing (every patient was refused): the printer sees the
        connection close, finishes warming up and leaves; nobody waits for it."""
        if self._local is None:
            self._connection.close()
            self._local = []


def _serve(connection, workers: int) -> None:
    """The printer process: warm up, then lay out what arrives until asked to collect."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from dosing.documents.render import warm_up

    warm_up()
    # A pool that notices a worker dying (BrokenProcessPool) rather than waiting forever.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"), initializer=_tune_collector) as pool:
        pool.submit(gc.collect).result()  # fork the workers now, warm, before any work arrives
        pending = []
        try:
            while True:
                kind, htmls = connection.recv()
                if kind == "collect":
                    break
                order = sorted(range(len(htmls)), key=lambda i: -len(htmls[i]))
                jobs = {i: pool.submit(_layout, htmls[i]) for i in order}
                pending.extend(jobs[i] for i in range(len(htmls)))
            connection.send(("pdfs", [job.result() for job in pending]))
        except EOFError:  # the command stopped wanting PDFs
            pool.shutdown(wait=True, cancel_futures=True)
        except Exception as exc:  # any failure goes back to the command, which refuses to write a sheet
            connection.send(("error", f"{type(exc).__name__}: {exc}"))
    connection.close()


def _layout(html: str) -> bytes:
    from dosing.documents.render import pdf_from_html

    return pdf_from_html(html)


def _tune_collector() -> None:
    # Layout makes millions of short-lived objects and few cycles; collecting
    # less often saves about a tenth of the layout time. Objects inherited from
    # the printer are frozen, so collections never walk them.
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
