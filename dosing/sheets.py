"""Issuing a phase's sheets for one patient: the steps the command line and the web page share.

`prepare` loads the patient file, refuses a phase off the pathway, computes the
orders (with the weight-change warning from the issue log), works out the
version from the issue log and builds the documents. `Pending.finish` writes
the rendered documents, never over an issued one, and records the issue. The
command line (`dosing sheet`) and the web page (`dosing serve`) both call
these, so there is one way a sheet is made.
"""

from datetime import date, time, timedelta
from pathlib import Path

import attrs

from dosing import __version__
from dosing.pipeline import compute, second_check  # noqa: F401  (the computation lives in dosing.pipeline)


@attrs.frozen
class Request:
    """What a sheet is asked for with: the command line's options, by the same names."""

    start: date
    out: Path
    format: str = "pdf"  #: pdf, html or json
    infusion_start: time | None = None
    weeks: int | None = None
    window_from: date | None = None
    documents: frozenset | None = None  #: document kinds; None for all the phase has
    bag_hours: int = 24
    override_pathway: str | None = None
    reissue: str | None = None
    substitute: str | None = None  #: a substitution from the regimen data the pharmacist chose (issue 12)
    override_dates: str | None = None  #: a pharmacist's reason to make a sheet whose dates are refused (dosing.dates)
    today: date | None = None  #: the date the sheet is made (default: DOSING_TODAY, else the computer's date)


@attrs.define
class Pending:
    """A patient's documents, computed and waiting to be rendered and written."""

    patient: object
    orders: object
    documents: list
    finish: object  #: finish(rendered: list[bytes]) -> list[Path] written
    version: int = 1
    htmls: list = attrs.Factory(list)
    recovered: list = attrs.Factory(list)  #: what was done about runs interrupted in the folder, a sentence each


def on_pathway(patient, protocol, phase_name: str, override: str | None) -> None:
    """A phase the results do not lead to is refused, unless a clinician overrides with a reason."""
    from dosing.errors import InputError
    from dosing.pathway import plan

    result = plan(patient, protocol)
    if phase_name in result.phases or override:
        return
    route = " → ".join(result.phases)
    if result.off_protocol:
        why = "the patient is off protocol"
    elif result.awaiting:
        why = f"the pathway is awaiting the {result.awaiting}"
    else:
        why = result.reasons[-2] if result.phases[-1] == "HSCT" else result.reasons[-1]
    raise InputError(
        "--phase", f"{phase_name} is not on this patient's pathway ({result.initial_risk} → {result.current_risk}: {route}); {why}",
        f"the pathway leads to: {', '.join(p for p in result.phases if p != 'induction') or 'induction only, so far'}; "
        "to order it anyway, give --override-pathway \"REASON\"",
    )


def prepare(path: Path, protocol, phase, request, preview: bool = False):
    """The orders as a dict (json), or a Pending sheet to render and write.

    A preview is never refused for being issued already: it writes nothing.
    """
    from dosing import patient as patients
    from dosing.errors import InputError

    patient = patients.load(path)
    on_pathway(patient, protocol, phase.name, request.override_pathway)
    weeks = request.weeks or (phase.default_weeks.value if phase.default_weeks is not None else None)
    window = None
    if weeks or request.window_from:
        first = request.window_from or request.start
        window = (first, first + timedelta(weeks=weeks or 104) - timedelta(days=1))
    options = request_options(request, window)
    orders = compute(patient, protocol, phase, request.start, options, today=getattr(request, "today", None),
                     patient_text=Path(path).read_text(encoding="utf-8"), window_asked={"weeks": request.weeks, "window_from": request.window_from})
    recovered = []
    try:
        return _prepare(path, protocol, phase, request, preview, patient, options, orders, recovered)
    except InputError as exc:
        if recovered:  # said even when this run is refused
            exc.problem += " (before that: " + "; ".join(recovered) + ")"
        raise


def _prepare(path, protocol, phase, request, preview, patient, options, orders, recovered):
    from dosing import issue_log, output
    from dosing.errors import InputError
    from dosing.json_orders import as_dict

    if request.format != "json" and not preview:
        # A run stopped while issuing here is rolled back first, so what the log says below is the whole truth.
        output.ready_folder(request.out)
        recovered += output.recover(request.out)
    previous = None
    # The log is read now and written in finish(), each with its own short connection:
    # a batch or the web page never holds one open per patient.
    if (request.out / issue_log.FILE_NAME).exists() or (request.format != "json" and not preview):
        with issue_log.IssueLog(request.out) as log:
            orders = _weight_change(orders, log)
            previous = log.latest(patient.id, phase.name, orders.start.isoformat())
    if request.format == "json":
        return as_dict(orders)
    from dosing.order_sheet import documents
    from dosing.output import AlreadyIssued, NotIssued, safe_stem

    inputs = Path(path).read_bytes()
    regimens = issue_log.regimen_hash(protocol.directory.parent)
    computed = as_dict(orders)
    version, replaces, changed = 1, None, []
    if previous is not None:
        changed = issue_log.changes(previous, inputs, regimens, options, computed, print_names(protocol))
        if not changed and not request.reissue and not preview:
            raise AlreadyIssued(
                "output", f"already issued: version {previous.version} of this sheet ({previous.issued_at}) and nothing has changed; "
                "an issued sheet is never overwritten", "keep the issued sheet; to issue a new version anyway give --reissue \"REASON\"")
        version, replaces = previous.version + 1, previous.id
        if request.reissue:
            changed.append(f"re-issued: {request.reissue}")
    issue = {"version": version, "replaces": f"version {previous.version}, issued {previous.issued_at}" if previous else None, "changes": changed,
             "dates_override": options["override_dates"]}
    stem = safe_stem(orders.patient.id, phase.name, orders.start) + (f"_v{version}" if version > 1 else "")
    chosen = [d for d in documents(orders, issue=issue) if request.documents is None or d.kind in request.documents]
    if not chosen:
        raise InputError("--documents", f"{phase.title} has none of the documents asked for", "choose documents this phase has")

    start = orders.start.isoformat()
    what = f"version {version} of {phase.name} for {patient.id}, day 1 {start}"

    def unchanged(log):
        """Under the folder's lock: no other run issued a version since this one read the log (the race's loser is told)."""
        now = log.latest(patient.id, phase.name, start)
        if (now.version if now else 0) == version - 1:
            return
        again = "run it again to issue a new version with these inputs (refused if nothing differs from the version now issued)"
        if now is not None and now.version >= version:
            raise NotIssued("output", f"another run issued version {now.version} of this sheet ({phase.name} for {patient.id}, "
                            f"day 1 {start}) at {now.issued_at} while this one was computing; this run's sheet (version {version}) "
                            "was NOT issued and nothing of it was kept", again)
        raise NotIssued("output", f"the issue log changed while this run was computing (its latest version of this sheet is now "
                        f"{now.version if now else 'none'}); this run's sheet (version {version}) was NOT issued", again)

    def record(log):
        log.record(patient_id=patient.id, phase=phase.name, start=start, version=version, replaces=replaces,
                   changes="; ".join(changed), tool_version=__version__, inputs=inputs, regimen_sha256=regimens,
                   options=options, orders=computed, files=files)

    files = {}

    def finish(made: list[bytes]) -> list[Path]:
        """Write the rendered documents and record the issue: all of it, or none (dosing.output.issue)."""
        files.update({f"{stem}_{d.kind}.{request.format}": content for d, content in zip(chosen, made)})
        written, said = output.issue(request.out, files, what=what, check=unchanged, record=record)
        recovered.extend(said)
        return written

    return Pending(patient=patient, orders=orders, documents=chosen, finish=finish, version=version, recovered=recovered)


def request_options(request, window) -> dict:
    """What shapes the orders besides the patient file and the regimen data (recorded, so verify can redo it)."""
    return {
        "format": request.format,
        "infusion_start": request.infusion_start.strftime("%H:%M") if request.infusion_start else None,
        "window": [window[0].isoformat(), window[1].isoformat()] if window else None,
        "override": request.override_pathway,
        "bag_hours": request.bag_hours,
        "substitute": getattr(request, "substitute", None),
        "override_dates": getattr(request, "override_dates", None),
    }


def _weight_change(orders, log):
    """safety.md: a weight 5 % (protocol.toml [warnings]) or more from the last sheet issued for this patient is a warning."""
    from dosing.schedule import with_notice

    last = log.last_for_patient(orders.patient.id)
    if last is None:
        return orders
    before, now = last.orders["weight_kg"], orders.measurement.weight.m_as("kg")
    if abs(now - before) / before >= float(orders.protocol.weight_change.value):
        return with_notice(orders, f"Weight changed by {(now - before) / before:+.0%} since the last sheet issued for this patient "
                                   f"({before:g} kg, {last.phase}, issued {last.issued_at[:10]}): check the weight and the doses.")
    return orders


def print_names(protocol) -> dict[str, str]:
    """Each drug's generic name -> the name the sheets print (Tall Man: vinCRIStine, DAUNOrubicin)."""
    return {name: drug.print_name for name, drug in protocol.drugs.items()}


@attrs.frozen
class Verification:
    said: tuple[str, ...]  #: what was found, a line each
    matches: bool  #: the log's chain is whole, the file prints what the recomputation gives, and the sheet is current with every dose
    replaced_by: int | None = None  #: the newest version, when a later version replaced this sheet
    headline: str = "Verified"  #: the finding in a few words (the web page's heading)


def verify(sheet: Path, regimens: Path | None = None) -> Verification:
    """Check an issued sheet against its issue log and recompute it from the inputs the log recorded (`dosing verify`).

    What it checks: the file is byte for byte one the log recorded; the whole
    log's chain of seals is unbroken (dosing.issue_log.check_chain), the
    sheet's own entry sealed (with the centre's key, when one is set); no later
    version of the sheet lies in the folder unrecorded; the file's own text
    prints the patient, phase, day 1 and version on every page and every dose
    line as the recomputation gives them (dosing.sheet_text); and the
    recomputation from the recorded patient file gives the recorded doses.
    Refused (InputError) when the file cannot be read, has no issue log beside
    it, the log is damaged, or the file is not in the log as written.
    """
    import tomllib

    from dosing import issue_log
    from dosing import patient as patients
    from dosing.errors import InputError, RegimenError
    from dosing.formatting import tall_man
    from dosing.json_orders import as_dict
    from dosing.regimen import load_phase, load_protocol

    sheet = Path(sheet)
    try:
        content = sheet.read_bytes()
    except OSError as exc:
        raise InputError(str(sheet), f"cannot be read ({exc.strerror})") from None
    if not (sheet.parent / issue_log.FILE_NAME).exists():
        raise InputError(str(sheet), f"no issue log ({issue_log.FILE_NAME}) beside it", "verify a sheet in the folder it was issued to")
    key = issue_log.log_key()
    with issue_log.LogReader(sheet.parent) as log:
        issue = log.by_file(sheet.name, issue_log.sha256(content))
        if issue is None:
            raise InputError(str(sheet), "not in the issue log as written: the file was changed after it was issued, or was not issued here")
        later = log.later(issue)
        replaced = log.by_id(issue.replaces) if issue.replaces is not None else None
        chain = log.chain(key)
        own_seal = log.seal_of(issue.id)
        recorded = log.names()
    said = [f"{sheet.name}: version {issue.version} of {issue.phase} for {issue.patient_id}, day 1 {issue.start}, "
            f"issued {issue.issued_at} by dosing {issue.tool_version}"]
    protocol = load_protocol(regimens)
    names = print_names(protocol)
    said += _replaced(issue, later, names)
    untrusted = _log_lines(chain, issue, own_seal, key)
    untrusted += [f"NOT IN THE ISSUE LOG: {name} is in this folder: a later version of this sheet being issued now, left by a run "
                  "that was stopped (the next issue into this folder rolls it back), or the log lost its newest entries"
                  for name in _unrecorded_versions(sheet.parent, issue, recorded)]
    said += untrusted or [_sealed_line(chain, key)]
    try:
        patient = patients.from_dict(tomllib.loads(issue.inputs.decode("utf-8")))
        # The date checks as on the day it was issued, with the reason recorded if one was given.
        orders = compute(patient, protocol, load_phase(protocol, issue.phase), date.fromisoformat(issue.start), issue.options,
                         patient_text=issue.inputs.decode("utf-8"),
                         today=date.fromisoformat(issue.issued_at[:10]))
    except (InputError, RegimenError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        said += [f"the recorded inputs no longer give a sheet: {exc}", _do_not_give(untrusted)]
        return Verification(said=tuple(said), matches=False, replaced_by=later[-1].version if later else None,
                            headline="LOG BROKEN" if untrusted else "CANNOT BE RECOMPUTED")
    differences = issue_log.dose_changes(issue.orders, as_dict(orders), names)
    printed = _printed(sheet.name, content, orders, issue, replaced, doses=not differences)
    untrusted += printed
    said += printed or [f"printed text: the patient, record number, phase, day 1 and version {issue.version} on every page, "
                        "and every dose line, as the recomputation gives them"]
    now = issue_log.regimen_hash(protocol.directory.parent)
    said.append("regimen data: " + ("unchanged since the sheet was issued" if now == issue.regimen_sha256 else "CHANGED since the sheet was issued"))
    if differences:
        said.append("DOSES DIFFER from the issued sheet: " + tall_man("; ".join(differences), names))
    else:
        said.append(f"every dose still matches ({len(orders.administrations)} administrations recomputed from the recorded patient file)"
                    + (f", but this version is no longer current: use version {later[-1].version}" if later else ""))
    if untrusted:
        said.append(_do_not_give(untrusted))
    headline = ("LOG BROKEN" if any(line.startswith(("ISSUE LOG BROKEN", "NOT SEALED", "NOT IN THE ISSUE LOG")) for line in untrusted)
                else "PRINTED TEXT DIFFERS" if untrusted else f"REPLACED by version {later[-1].version}" if later
                else "DOSES DIFFER" if differences else "Verified")
    return Verification(said=tuple(said), matches=not untrusted and not differences and not later,
                        replaced_by=later[-1].version if later else None, headline=headline)


def _log_lines(chain, issue, own_seal, key) -> list[str]:
    """What is wrong with the issue log or this sheet's seal, a line each (none: the chain is whole and the entry sealed)."""
    from dosing import issue_log

    lines = [f"ISSUE LOG BROKEN: {problem}" for problem in chain.problems[:10]]
    if len(chain.problems) > 10:
        lines.append(f"ISSUE LOG BROKEN: and {len(chain.problems) - 10} more breaks")
    if lines:
        return lines
    if issue.id in chain.unsealed:
        return ["NOT SEALED: this sheet's entry was recorded by a dosing from before the issue log was sealed, or its seal was removed: "
                "an edit to it cannot be detected; to have a sealed sheet, issue it again with --reissue \"REASON\""]
    if key is not None and own_seal != issue_log.seal_name(key):
        return [f"NOT SEALED with the centre's key ({issue_log.key_id(key)}): this sheet's entry is sealed without it, so anyone who "
                "could write this folder could have made or rebuilt its seal"]
    return []


def _sealed_line(chain, key) -> str:
    from dosing.issue_log import key_id

    entries = "its 1 entry sealed" if chain.entries == 1 else f"all {chain.entries} entries sealed, each linked to the one before"
    if chain.unsealed:
        older = len(chain.unsealed)
        entries = (f"{chain.entries - older} of its {chain.entries} entries sealed, each linked to the one before (the "
                   f"{'first was' if older == 1 else f'first {older} were'} recorded before the log was sealed)")
    if key is not None:
        return f"issue log unbroken: {entries}; this sheet's entry sealed with the centre's key ({key_id(key)})"
    return (f"issue log unbroken: {entries}, without a key: this shows an edit made without rebuilding the seals, not one made by "
            "someone who rebuilt them (README, The issue log)")


def _do_not_give(untrusted: list[str]) -> str:
    if not untrusted:
        return "Do not give from this sheet until its inputs are checked: issue it again from the patient file."
    return ("Do not give from this sheet: it is not shown to be the sheet that was issued. Keep the file and the issue log as they are "
            "for whoever investigates, and issue the sheet again from the patient file into a new folder.")


def _unrecorded_versions(folder: Path, issue, recorded: set[str]) -> list[str]:
    """Files named as a later version of this sheet that the log does not hold (the log's newest entries may be gone)."""
    import re

    from dosing.output import safe_stem

    stem = safe_stem(issue.patient_id, issue.phase, date.fromisoformat(issue.start))
    found = []
    for path in sorted(folder.glob(f"{stem}_v*_*")):
        number = re.match(re.escape(stem) + r"_v(\d+)_", path.name)
        if number and int(number[1]) > issue.version and path.name not in recorded:
            found.append(path.name)
    return found


def _printed(name: str, content: bytes, orders, issue, replaced, doses: bool) -> list[str]:
    """What the file's own text prints differently from the recomputation, a line each (dosing.sheet_text)."""
    from dosing import sheet_text
    from dosing.order_sheet import documents

    recorded = {"version": issue.version, "changes": [issue.changes] if issue.changes else [],
                "replaces": f"version {replaced.version}, issued {replaced.issued_at}" if replaced else None,
                "dates_override": issue.options.get("override_dates")}
    kinds = [d for d in documents(orders, issue=recorded) if name.endswith(f"_{d.kind}.{issue.options.get('format', 'pdf')}")]
    if not kinds:
        return [f"PRINTED TEXT: the recomputation gives no document named as {name} is, so its text cannot be compared"]
    expected = sheet_text.printed(kinds[0])
    if not doses:  # the recomputation no longer gives the recorded doses (said below): its dose lines are not the sheet's
        expected = sheet_text.Printed(expected.on_every_page, tuple(line for line in expected.in_order if line[0] != "dose"))
    return [f"PRINTED TEXT DIFFERS: {line}" for line in sheet_text.differences(sheet_text.pages(name, content), expected)]


def _replaced(issue, later: list, names: dict) -> list[str]:
    """'REPLACED by version N, issued WHEN: what changed', for each version issued after this one.

    What changed is what the log recorded when the version was issued (the
    same list its first page prints). A log written by an older dosing may
    hold a shortened list, or none: then it is worked out again, complete,
    from the two versions' recorded inputs and orders.
    """
    from dosing import issue_log
    from dosing.formatting import tall_man

    said, before = [], issue
    for number, each in enumerate(later):
        why = each.changes
        if not why.strip() or why.rstrip().endswith("..."):
            why = "; ".join(issue_log.changes(before, each.inputs, each.regimen_sha256, each.options, each.orders, names)) \
                or "issued again with nothing changed (no reason was recorded)"
        said.append(f"{'REPLACED' if number == 0 else 'Then replaced'} by version {each.version}, issued {each.issued_at}: "
                    + tall_man(why, names))
        before = each
    if later:
        said.append(f"This sheet is not the current one: use version {later[-1].version} and destroy this one.")
    return said


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
    """`request` has start, infusion_start, stopped, restart, bag_hours, override_pathway, out and format."""
    from dosing import bags
    from dosing import patient as patients
    from dosing.order_sheet import documents
    from dosing import dates, output
    from dosing.regimen import load_phase
    from dosing.schedule import phase_orders, with_notice

    phase = load_phase(protocol, "blinatumomab")
    patient = patients.load(path)
    on_pathway(patient, protocol, phase.name, request.override_pathway)
    override_dates = getattr(request, "override_dates", None)
    notices = dates.check(patient, protocol, phase, request.start, first_printed=request.restart.date(),
                          today_is=getattr(request, "today", None), override=override_dates)
    orders = phase_orders(patient, protocol, phase, request.start, infusion_start=request.infusion_start,
                          override=request.override_pathway, bag_hours=request.bag_hours)
    for notice in reversed(notices):
        orders = with_notice(orders, notice)
    first = orders.bags[0]
    result = bags.resume(first.daily, first.start, request.stopped, request.restart, request.bag_hours,
                         orders.measurement.weight, orders.product, phase.course_hours.value)
    premedication = next(a for a in orders.administrations if a.drug == "dexamethasone" and a.route == "IV")
    said = tuple(_resumption_text(result, premedication))
    chosen = []
    resumed = attrs.evolve(orders, bags=result.bags, notices=said + orders.notices, warnings=said + orders.warnings)
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


def _resumption_text(result, premedication) -> list[str]:
    from dosing.formatting import amount

    hours = result.interruption.total_seconds() / 3600
    said = [f"Infusion stopped after {result.infused_hours:g} hours and interrupted for {hours:g} hours."]
    limit, course = f"{result.new_course_after.total_seconds() / 86400:g} days", f"{result.course_hours / 24:g}"
    if result.new_course:
        said.append(f"The interruption is longer than {limit}: this is a new course of {course} days ({result.course_hours:g} hours) from the restart, "
                    "as the product label says. The prescriber must confirm a new course.")
    else:
        said.append(f"The interruption is {limit} or less: continue to {course} infusion days in total, {result.remaining_hours:g} hours from the restart.")
    if result.premedication:
        said.append(f"The interruption lasted {result.premedicate_after.total_seconds() / 3600:g} hours or more: give dexamethasone {amount(premedication.total, 'mg')} IV "
                    "30 to 60 minutes before the restart.")
    return said
