"""`dosing sheet` over many patients, each one's sheets written as soon as they are made.

Patients are taken in the order given. Each is computed (dosing.issuing.prepare)
and its documents rendered to HTML and sent to the printer; then the patient
before it, whose PDFs the printer has been laying out meanwhile, is waited for,
written (Pending.finish) and forgotten. So the printer always has the next
patient's documents queued while this process computes the one after, and at
most two patients' documents are held at any time: memory stays flat however
many patients a run has. What is kept to the end is the report's few lines
per patient (dosing.cli.report).

Without a printer (--format html) each patient is written as soon as it is
rendered.
"""

import sys
from collections import deque

from dosing.cli import report as said

#: Patients sent to the printer before the oldest is waited for: the next is queued while one is laid out.
IN_FLIGHT = 2


def issue(paths, protocol, phase, request, printer, report, progress) -> None:
    """Every patient's sheets written, or its refusal recorded in `report`, in the order of `paths`."""
    from dosing.errors import InputError, RegimenError
    from dosing.issuing import prepare

    waiting = deque()  # (report entry, Pending, documents) sent to the printer, PDFs not back yet
    pdfs = printer.results() if printer is not None else None
    counts = {"done": 0, "laid_out": 0, "sent": 0, "left": len(paths)}

    def step(**changed) -> None:
        counts.update({k: counts[k] + v for k, v in changed.items()})
        shown = {"documents": counts["sent"] + counts["left"] * counts.get("each", 0), "laid_out": counts["laid_out"]}
        progress.update(done=counts["done"], **(shown if printer is not None else {}))

    def finish_oldest() -> None:
        entry, pending, count = waiting.popleft()
        made = next(pdfs)  # this patient's PDFs, in the order sent (dosing.printer raises PrinterError)
        step(laid_out=count)
        _write(entry, pending, made, report, progress)
        step(done=1)

    from dosing.printer import PrinterError

    try:
        for number, path in enumerate(paths):
            entry = report.patient(path)
            try:
                pending = prepare(path, protocol, phase, request)
            except (InputError, RegimenError) as exc:
                said.refused(entry, exc)
                step(done=1, left=-1)
                continue
            htmls = _rendered(pending)
            counts["each"] = len(htmls)
            if printer is None:
                _write(entry, pending, [text.encode("utf-8") for text in htmls], report, progress)
                step(done=1, left=-1)
                continue
            printer.submit(htmls)
            del htmls  # the printer has them; this process keeps only what finish() needs
            waiting.append((entry, pending, len(pending.documents)))
            step(sent=len(pending.documents), left=-1)
            while len(waiting) >= IN_FLIGHT:
                finish_oldest()
        while waiting:
            finish_oldest()
    except PrinterError as exc:
        # No PDF can come back now: each patient not written is said, never silently dropped.
        stopped = InputError("", f"no sheet was written for this patient: {exc}", "run the command again for this patient")
        for entry in report.patients:
            if not entry.done:  # with the printer, or being sent to it
                said.refused(entry, stopped)
        for path in paths[number + 1:]:
            said.refused(report.patient(path), stopped)


def _rendered(pending) -> list[str]:
    from dosing.documents import render

    return [render.html(document) for document in pending.documents]


def _write(entry, pending, made: list[bytes], report, progress) -> None:
    """One patient's documents written and recorded in the issue log, its files said on standard output."""
    from dosing.documents.wording import sentences
    from dosing.errors import InputError, RegimenError

    try:
        files = pending.finish(made)
    except (InputError, RegimenError) as exc:  # the folder changed under this run (another run issued it meanwhile)
        said.refused(entry, exc)
        return
    finally:
        report.note(pending.recovered)  # a run stopped while issuing into this folder, rolled back (dosing.output)
    said.written(entry, pending.patient, len(files), sentences(pending.orders.findings))  # first: a Ctrl-C now still reports them
    for path in files:
        progress.say(str(path), sys.stdout)
