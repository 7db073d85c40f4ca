"""What the page's buttons do, once the form's patient file has loaded: plan, preview, issue, resume, verify.

Each calls the steps the command line calls (dosing.pathway, dosing.issuing,
dosing.resumption, dosing.verification, dosing.documents.render) and returns what the
page shows, by the names the page template uses. Bad input raises InputError
or RegimenError, which the page shows beside the box or at the top.
"""

import re
import threading
from datetime import datetime, timedelta

from dosing.errors import InputError, RegimenError
from dosing.requests import ResumeRequest, parse_moment
from dosing.web.form import phase_name, sheet_option, sheet_request

#: the name of a file the page may verify or hand out: an issued sheet's, never a path
ISSUED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.(pdf|html)$")


#: how long the Issue of a preview's inputs issues the very sheets it showed (their "produced" time)
PREVIEW_KEPT = timedelta(minutes=15)
PREVIEWS_KEPT = 100  #: previews remembered at most (a fingerprint and a time each)


class Previews:
    """When each preview's sheets were produced, by the fingerprint of their inputs.

    A sheet prints the minute it was produced, so an Issue a minute after its
    preview would print other HTML than the preview laid out ahead. The Issue
    of the same inputs (the same signed fingerprint) within 15 minutes, on the
    same day, issues the sheets the preview showed, produced at the preview's
    time, as the team's server issues the drafts the verifier saw; the issue
    log still records when it was issued. Later, the sheets are produced anew.
    """

    def __init__(self):
        self._lock, self._kept = threading.Lock(), {}

    def made(self, fingerprint: str) -> datetime:
        now = datetime.now()
        with self._lock:
            self._kept.pop(fingerprint, None)
            self._kept[fingerprint] = now
            while len(self._kept) > PREVIEWS_KEPT:
                del self._kept[next(iter(self._kept))]  # the oldest
        return now

    def produced(self, fingerprint: str) -> datetime | None:
        now = datetime.now()
        with self._lock:
            made = self._kept.get(fingerprint)
        return made if made is not None and now - made < PREVIEW_KEPT and made.date() == now.date() else None


class Refused(Exception):
    """What the page says at the top instead of the action's result, a line each."""

    def __init__(self, *problems: str):
        super().__init__(*problems)
        self.problems = list(problems)


def plan(patient, protocol):
    """The risk group, the phases the results lead to and their estimated dates (`dosing plan`)."""
    from dosing import pathway

    return pathway.with_dates(pathway.plan(patient, protocol), protocol, patient)


def sheets(path, values: dict, preview: bool, protocol, out, layout, produced: datetime | None = None) -> dict:
    """The sheets previewed, or issued into `out` as `dosing sheet` issues them.

    `layout` (dosing.printing.pool.Layout) lays the PDFs out on the server's
    printer. A preview writes no sheet, but has the printer lay out, when it is
    idle, the very documents an Issue of these inputs would print, into the
    output folder's layout cache: the Issue then finds them laid out. The
    preview's HTML is the Issue's (the same prepare, the same documents), and
    the cache gives a PDF only for exactly the HTML it was laid out from.
    `produced`: the time the sheets say they were produced (Previews), default now.
    """
    from dosing.documents import render
    from dosing.issuing import prepare
    from dosing.regimen import load_phase

    name = phase_name(values)
    request = sheet_request(values, out)
    pending = prepare(path, protocol, load_phase(protocol, name), request, preview=preview, produced=produced)
    if preview:
        frames = [{"title": d.title, "kind": d.kind, "html": render.html(d)} for d in pending.documents]
        already = pending.issued_already  # nothing differs from the version issued: the page says so, and offers no Issue
        issued = {"version": already.version, "issued_at": already.issued_at} if already is not None else None
        if already is None:  # an Issue is offered: its documents laid out ahead
            layout.ahead([frame["html"] for frame in frames])
        return {"preview": {"frames": frames, "version": pending.version, "issued_already": issued}, "notes": _warnings(pending)}
    written = pending.finish(layout.pdfs([render.html(d) for d in pending.documents]))
    return {"issued": [p.name for p in written], "notes": pending.recovered + _warnings(pending)}


def resume(path, values: dict, protocol, out, layout) -> dict:
    """The blinatumomab bags after an interruption, as `dosing blinatumomab-resume` writes them."""
    from dosing.documents import render
    from dosing.regimen import load_phase
    from dosing.resumption import resume as resumed

    values = values | {"sheet.phase": "blinatumomab"}
    phase_name(values)
    request = sheet_request(values, out)  # every sheet option on the form read, as for a sheet
    load_phase(protocol, "blinatumomab")
    stopped = sheet_option(values, "stopped", parse_moment, required=True)
    restart = sheet_option(values, "restart", parse_moment, required=True)
    asked = ResumeRequest(start=request.start, infusion_start=request.infusion_start, stopped=stopped, restart=restart,
                          bag_hours=request.bag_hours, override_pathway=request.override_pathway, out=out, format="pdf",
                          override_dates=request.override_dates, today=None)
    found = resumed(path, protocol, asked)
    written = found.finish(layout.pdfs([render.html(d) for d in found.documents]))
    return {"issued": [p.name for p in written], "notes": found.recovered + list(found.said)}


def verify(name: str, out, regimens) -> dict:
    """An issued sheet in `out` checked against its issue log and recomputed (`dosing verify`)."""
    from dosing.verification import verify as verified

    if not ISSUED.match(name):
        raise Refused(f"{name!r} is not the name of an issued sheet")
    try:
        result = verified(out / name, regimens)
    except (InputError, RegimenError) as exc:
        raise Refused(f"verify {name}: {exc}") from None
    return {"verification": {"name": name, "said": result.said, "matches": result.matches, "replaced_by": result.replaced_by,
                             "headline": result.headline}}


def _warnings(pending) -> list[str]:
    """The sheet's warnings as the page shows them: the same words as the team's server (dosing.pharmacy)."""
    from dosing.pharmacy import warnings

    return warnings(pending)
