"""A sign of life for long work: one plain line on a terminal, rewritten in place.

A batch of infants' PDFs runs about a minute, and a 104-week maintenance
several seconds. On a terminal, standard error shows one line: the patients
done, the documents laid out, the time so far; a timer thread rewrites it
every half second, so the time moves even while one long document is laid
out. When standard error is not a terminal (a pipe, a file, a log) nothing of
it is written: scripts and logs get only the report.

A plain carriage-return line rather than tqdm or rich: measured on this
machine, importing tqdm costs 60-120 ms and rich.progress 45-150 ms, for
one line this module draws with no import at all. Only carriage returns and
spaces are written (no escape codes), so even a dumb terminal shows it.

Every other line the command prints while the line is shown goes through
`say`, which clears it first and draws it again after: standard output and
standard error are usually the same terminal.
"""

import os
import shutil
import sys
import threading
import time

TICK = 0.5  #: seconds between redraws: the time moves visibly, and the terminal is not flooded


class Progress:
    """patients done of N, documents laid out of N, elapsed; drawn only on a terminal."""

    def __init__(self, patients: int, stream=None, shown: bool | None = None):
        self.stream = stream or sys.stderr
        self.shown = _is_terminal(self.stream) if shown is None else shown
        self.patients, self.done, self.laid_out, self.documents = patients, 0, 0, 0
        self._began = time.monotonic()
        self._line = ""  # the text on the terminal's line now, to blank it
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._timer = None

    def __enter__(self):
        if self.shown:
            self._draw()
            self._timer = threading.Thread(target=self._tick, name="dosing progress", daemon=True)
            self._timer.start()
        return self

    def __exit__(self, *_) -> None:
        self._stop.set()
        if self._timer is not None:
            self._timer.join()
        with self._lock:
            self._clear()

    def update(self, done: int | None = None, laid_out: int | None = None, documents: int | None = None) -> None:
        with self._lock:
            self.done = self.done if done is None else done
            self.laid_out = self.laid_out if laid_out is None else laid_out
            self.documents = self.documents if documents is None else documents
            self._draw()

    def say(self, text: str, stream) -> None:
        """Print a line of the command's own output, with the progress line out of its way."""
        with self._lock:
            self._clear()
            print(text, file=stream, flush=True)
            self._draw()

    def text(self) -> str:
        seconds = int(time.monotonic() - self._began)
        documents = f", documents {self.laid_out} of {self.documents} laid out" if self.documents else ""
        return f"dosing: patients {self.done} of {self.patients} done{documents}, {seconds // 60}:{seconds % 60:02d}"

    def _tick(self) -> None:
        while not self._stop.wait(TICK):
            with self._lock:
                self._draw()

    def _draw(self) -> None:
        if not self.shown or self._stop.is_set():
            return
        line = self.text()[:max(self._width() - 1, 10)]  # never wrap: a wrapped line cannot be rewritten
        if line != self._line:  # the timer redraws only when the second has changed
            self._write("\r" + line + " " * max(len(self._line) - len(line), 0))
            self._line = line

    def _width(self) -> int:
        try:  # standard error's own terminal: standard output may be a file meanwhile
            columns = os.get_terminal_size(self.stream.fileno()).columns
        except (AttributeError, OSError, ValueError):
            columns = 0
        return columns or shutil.get_terminal_size((80, 24)).columns  # a new terminal of no size yet: $COLUMNS, else 80

    def _clear(self) -> None:
        if self.shown and self._line:
            self._write("\r" + " " * len(self._line) + "\r")
            self._line = ""

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # the terminal went away: the work goes on without its sign of life
            self.shown = False


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
