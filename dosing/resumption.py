"""The blinatumomab bags after an interruption (`dosing blinatumomab-resume`, docs/reference.md §9).

Up to the regimen data's limit (7 days), the infusion continues to the course's
28 infusion days in total; longer, a new course. The resumed bags go through
the second check like any sheet's, and are written all or none, outside the
issue log (a resumption is not a version of the phase's sheet).
"""

from pathlib import Path

import attrs

from dosing.issuing import on_pathway
from dosing.pipeline import second_check


@attrs.define
class Resumption:
    """The blinatumomab bags after an interruption (`dosing blinatumomab-resume`)."""

    patient: object
    course_start: object  #: datetime the first bag went up
    result: object  #: bags.Resumed
    premedication: object  #: the phase's IV dexamethasone administration
    said: tuple
    documents: list  #: the bag schedule and the preparation worksheet (not for json)
    finish: object  #: finish(rendered: list[bytes]) -> list[Path] written
    recovered: list = attrs.Factory(list)  #: what was done about runs interrupted in the folder, a sentence each


def resume(path: Path, protocol, request) -> Resumption:
    """The bags from the restart on, for the course `request` (a dosing.requests.ResumeRequest) describes."""
    from dosing import bags, dates, output
    from dosing import patient as patients
    from dosing.documents import documents
    from dosing.documents import wording
    from dosing.findings import resumption
    from dosing.orders import with_notice
    from dosing.pipeline import calculate
    from dosing.regimen import load_phase

    phase = load_phase(protocol, "blinatumomab")
    patient = patients.load(path)
    on_pathway(patient, protocol, phase.name, request.override_pathway)
    override_dates = request.override_dates
    notices = dates.check(patient, protocol, phase, request.start, first_printed=request.restart.date(),
                          today_is=request.today, override=override_dates)
    orders = calculate(patient, protocol, phase, request.start, infusion_start=request.infusion_start,
                       override=request.override_pathway, bag_hours=request.bag_hours)
    for notice in reversed(notices):
        orders = with_notice(orders, notice)
    first = orders.bags[0]
    result = bags.resume(first.daily, first.start, request.stopped, request.restart, request.bag_hours,
                         orders.measurement.weight, orders.product, phase.course_hours.value)
    premedication = next(a for a in orders.administrations if a.drug == "dexamethasone" and a.route == "IV")
    found = resumption(result, premedication)
    said = tuple(wording.sentences([found]))
    chosen = []
    resumed = with_notice(attrs.evolve(orders, bags=result.bags), found)  # first on the documents
    clock = request.infusion_start.strftime("%H:%M") if request.infusion_start else None
    second_check(Path(path).read_text(encoding="utf-8"), protocol, phase.name, request.start,
                 {"infusion_start": clock, "window": None, "bag_hours": request.bag_hours, "substitute": None,
                  "stopped": request.stopped.isoformat(timespec="minutes"), "restart": request.restart.isoformat(timespec="minutes")}, resumed)
    if request.format != "json":
        issue = {"version": 1, "replaces": None, "changes": [], "dates_override": override_dates}
        chosen = [d for d in documents(resumed, issue=issue) if d.kind in ("infusion", "preparation")]
    stem = output.safe_stem(patient.id, phase.name, request.start) + f"_resume-{request.restart:%Y-%m-%dT%H%M}"
    recovered = []
    if request.format != "json":  # the folder checked (and a stopped run's leftovers rolled back) before any PDF is laid out
        output.ready_folder(request.out)
        recovered += output.recover(request.out)

    def finish(made: list[bytes]) -> list[Path]:
        """Written all or none; not in the issue log (a resumption is not a version of the phase's sheet)."""
        written, done = output.issue(request.out, {f"{stem}_{d.kind}.{request.format}": content for d, content in zip(chosen, made)},
                                     what=f"the blinatumomab resumption sheets for {patient.id} (restart {request.restart:%Y-%m-%d %H:%M})")
        recovered.extend(done)
        return written

    return Resumption(patient=patient, course_start=first.start, result=result, premedication=premedication, said=said,
                      documents=chosen, finish=finish, recovered=recovered)
