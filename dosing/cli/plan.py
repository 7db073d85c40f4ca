"""`dosing plan`: the risk group, the phases the results lead to so far and their
estimated dates (dosing.pathway), as text or JSON on standard output, or as a
one-page HTML or PDF with the plan drawn as a timeline (issue 19), written into
--out as the sheets are: never over a file already there."""

import json
import sys

EXIT_OK, EXIT_REFUSED = 0, 3


def plan_command(arguments) -> int:
    """The risk group and the phases the results lead to, with estimated dates."""
    from dosing import patient as patients
    from dosing.errors import InputError, RegimenError
    from dosing.pathway import plan, with_dates
    from dosing.regimen import load_protocol

    try:
        patient = patients.load(arguments.patient)
        protocol = load_protocol(arguments.regimens)
        result = with_dates(plan(patient, protocol), protocol, patient, arguments.start)
    except (InputError, RegimenError) as exc:
        print(f"dosing: refused: {arguments.patient}: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    if arguments.format in ("html", "pdf"):
        return _document(arguments, result, patient, protocol)
    if arguments.format == "json":
        print(json.dumps({
            "patient": {"id": patient.id, "birth_date": patient.birth_date.isoformat()},
            "initial_risk": result.initial_risk,
            "current_risk": result.current_risk,
            "phases": list(result.phases),
            "awaiting": result.awaiting,
            "off_protocol": result.off_protocol,
            "reasons": list(result.reasons),
            "estimated": [{"phase": s.phase, "start": s.start and s.start.isoformat(), "end": s.end and s.end.isoformat()} for s in result.steps],
        }, indent=2, ensure_ascii=False))
        return EXIT_OK
    print(f"{patient.name} ({patient.id}), born {patient.birth_date}, diagnosed {patient.diagnosis_date}")
    print(f"Risk group: {result.initial_risk} at diagnosis, {result.current_risk} now")
    for reason in result.reasons:
        print(f"  - {reason}")
    print("Phases (estimated dates; counts and results decide the real ones):")
    for step in result.steps:
        when = f"from {step.start}" + (f" to {step.end}" if step.end else " (referral)")
        print(f"  {step.phase:<16} {when}")
    if result.off_protocol:
        print("OFF PROTOCOL: nothing further is planned.")
    print(f"Awaiting: {result.awaiting or 'nothing'}")
    return EXIT_OK


def _document(arguments, result, patient, protocol) -> int:
    """The plan page into --out: refused, with nothing written, if its file name is taken."""
    from dosing.dates import today
    from dosing.documents import render
    from dosing.documents.plan import file_name, plan_document
    from dosing.errors import InputError
    from dosing.output import write_new

    try:
        on = today(arguments.today)
        document = plan_document(result, patient, protocol, on)
        name = file_name(patient.id, on, arguments.format)
        if (arguments.out / name).exists():  # write_new refuses it too; this says why in the plan's words
            raise InputError("--out", f"{arguments.out / name} is there already (a plan made today); a file in --out is never overwritten",
                             "keep it, or write to another folder with --out")
        text = render.html(document)
        content = text.encode("utf-8") if arguments.format == "html" else render.pdf_from_html(text)
        written = write_new(arguments.out, {name: content}, what=f"plan {name}")
    except InputError as exc:
        print(f"dosing: refused: {arguments.patient}: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    for path in written:
        print(path)
    return EXIT_OK
