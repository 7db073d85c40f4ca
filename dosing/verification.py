"""Verifying an issued sheet (`dosing verify`): its issue log, its seals, its printed text and its doses recomputed.

The recomputation runs the same pipeline (dosing.pipeline) from the inputs the
issue log recorded for the sheet, with the date checks as on the day it was
issued.
"""

from datetime import date
from pathlib import Path

import attrs

from dosing.issuing import print_names
from dosing.pipeline import compute


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
    line as the recomputation gives them (dosing.documents.read_back); and the
    recomputation from the recorded patient file gives the recorded doses.
    Refused (InputError) when the file cannot be read, has no issue log beside
    it, the log is damaged, or the file is not in the log as written.
    """
    import tomllib

    from dosing import issue_log
    from dosing import patient as patients
    from dosing.errors import InputError, RegimenError
    from dosing.formatting import tall_man
    from dosing.documents.json_orders import as_dict
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
    """What the file's own text prints differently from the recomputation, a line each (dosing.documents.read_back)."""
    from dosing.documents import documents, read_back

    recorded = {"version": issue.version, "changes": [issue.changes] if issue.changes else [],
                "replaces": f"version {replaced.version}, issued {replaced.issued_at}" if replaced else None,
                "dates_override": issue.options.get("override_dates")}
    kinds = [d for d in documents(orders, issue=recorded) if name.endswith(f"_{d.kind}.{issue.options.get('format', 'pdf')}")]
    if not kinds:
        return [f"PRINTED TEXT: the recomputation gives no document named as {name} is, so its text cannot be compared"]
    expected = read_back.printed(kinds[0])
    if not doses:  # the recomputation no longer gives the recorded doses (said below): its dose lines are not the sheet's
        expected = read_back.Printed(expected.on_every_page, tuple(line for line in expected.in_order if line[0] != "dose"))
    return [f"PRINTED TEXT DIFFERS: {line}" for line in read_back.differences(read_back.pages(name, content), expected)]


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
