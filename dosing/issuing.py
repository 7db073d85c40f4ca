"""Issuing a phase's sheets for one patient: the steps the command line and the web page share.

`prepare` loads the patient file, refuses a phase off the pathway, computes the
orders (dosing.pipeline; with the weight-change warning from the issue log),
works out the version from the issue log and builds the documents.
`Pending.finish` writes the rendered documents, never over an issued one, and
records the issue. The command line (`dosing sheet`) and the web page
(`dosing serve`) both call these, so there is one way a sheet is made.
"""

from pathlib import Path

import attrs

from dosing import __version__
from dosing.pipeline import compute
from dosing.requests import printed_window, request_options, window_asked


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
    previous: object = None  #: the version this one replaces (an issue_log.Issue), if any
    changes: list = attrs.Factory(list)  #: what changed from it, a sentence each
    inputs: bytes = b""  #: the patient file as read
    options: dict = attrs.Factory(dict)  #: as the issue log records them
    regimen_sha256: str = ""
    computed: dict = attrs.Factory(dict)  #: the orders as --format json gives them
    issued_already: object = None  #: a preview of inputs nothing differs in from the version issued: that Issue (shown as it)


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


def prepare(path: Path, protocol, phase, request, preview: bool = False, history=None, produced=None):
    """The orders as a dict (json), or a Pending sheet to render and write.

    A preview is never refused for being issued already: it writes nothing.
    `history`: where earlier versions are looked up instead of the output
    folder's issue log (the pharmacy server's database, dosing.store.orders.History:
    `latest(patient_id, phase, start)` and `last_for_patient(patient_id)`); the
    documents are then kept by the caller, and `finish` is None.
    `produced`: the time the sheets say they were produced (default now; the
    page's Issue gives its preview's, so it issues the very sheets previewed).
    """
    from dosing import patient as patients
    from dosing.errors import InputError

    patient = patients.load(path)
    on_pathway(patient, protocol, phase.name, request.override_pathway)
    options = request_options(request, printed_window(request, phase))
    orders = compute(patient, protocol, phase, request.start, options, today=request.today,
                     patient_text=Path(path).read_text(encoding="utf-8"), window_asked=window_asked(request))
    recovered = []
    try:
        return _prepare(path, protocol, phase, request, preview, patient, options, orders, recovered, history, produced)
    except InputError as exc:
        if recovered:  # said even when this run is refused
            exc.problem += " (before that: " + "; ".join(recovered) + ")"
        raise


def _prepare(path, protocol, phase, request, preview, patient, options, orders, recovered, history=None, produced=None):
    from dosing import issue_log
    from dosing.errors import InputError
    from dosing.documents.json_orders import as_dict

    if request.format not in ("json", "fhir") and not preview and history is None:
        from dosing import output  # writing sheets only: the JSON orders write nothing (tests/test_imports.py)

        # A run stopped while issuing here is rolled back first, so what the log says below is the whole truth.
        output.ready_folder(request.out)
        recovered += output.recover(request.out)
    previous = None
    # The log is read now and written in finish(), each with its own short connection:
    # a batch or the web page never holds one open per patient.
    if history is not None:
        orders = _weight_change(orders, history)
        previous = history.latest(patient.id, phase.name, orders.start.isoformat())
    elif (request.out / issue_log.FILE_NAME).exists() or (request.format not in ("json", "fhir") and not preview):
        with issue_log.IssueLog(request.out) as log:
            orders = _weight_change(orders, log)
            previous = log.latest(patient.id, phase.name, orders.start.isoformat())
    if request.format == "json":
        return as_dict(orders)
    if request.format == "fhir":  # the same orders as a FHIR Bundle; like json, nothing is issued or written
        from dosing.fhir.bundle import orders_bundle
        return orders_bundle(orders)
    from dosing import output
    from dosing.documents import documents
    from dosing.output import AlreadyIssued, NotIssued, safe_stem

    inputs = Path(path).read_bytes()
    regimens = issue_log.regimen_hash(protocol.directory.parent)
    computed = as_dict(orders)
    version, replaces, changed, already = 1, None, [], None
    if previous is not None:
        changed = issue_log.changes(previous, inputs, regimens, options, computed, print_names(protocol))
        if not changed and not request.reissue and not preview:
            raise AlreadyIssued(
                "output", f"already issued: version {previous.version} of this sheet ({previous.issued_at}) and nothing has changed; "
                "an issued sheet is never overwritten", "keep the issued sheet; to issue a new version anyway give --reissue \"REASON\"")
        if not changed and not request.reissue:
            already = previous  # previewed as the version issued: a "version N+1" that changes nothing would mislead
        else:
            version, replaces = previous.version + 1, previous.id
        if request.reissue:
            changed.append(f"re-issued: {request.reissue}")
    issue = {"version": version, "replaces": f"version {previous.version}, issued {previous.issued_at}" if previous else None, "changes": changed,
             "dates_override": options["override_dates"]}
    if already is not None:
        issue.update(version=already.version, replaces=f"version {already.version - 1}" if already.version > 1 else None,
                     changes=[already.changes] if already.changes else [])
        version = already.version
    stem = safe_stem(orders.patient.id, phase.name, orders.start) + (f"_v{version}" if version > 1 else "")
    chosen = [d for d in documents(orders, produced, issue=issue) if request.documents is None or d.kind in request.documents]
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

    return Pending(patient=patient, orders=orders, documents=chosen, finish=finish if history is None else None, version=version,
                   recovered=recovered, previous=previous, changes=changed, inputs=inputs, options=options, regimen_sha256=regimens,
                   computed=computed, issued_already=already)


def _weight_change(orders, log):
    """docs/safety.md: a weight 5 % (protocol.toml [warnings]) or more from the last sheet issued for this patient is a notice."""
    from dosing.findings import weight_change
    from dosing.orders import with_notice

    last = log.last_for_patient(orders.patient.id)
    found = last and weight_change(orders, last.orders["weight_kg"], last.phase, last.issued_at[:10])
    return with_notice(orders, found) if found else orders


def print_names(protocol) -> dict[str, str]:
    """Each drug's generic name -> the name the sheets print (Tall Man: vinCRIStine, DAUNOrubicin)."""
    return {name: drug.print_name for name, drug in protocol.drugs.items()}
