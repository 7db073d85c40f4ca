"""What `dosing sheet` says on standard error once its patients are done: grouped, each thing once.

Standard output carries only the files written, one a line, as each patient's
are written (scripts read it). Standard error carries the rest, at the end of
the run, in the order the patients were given:

- notes about the output folder (a run stopped while issuing, rolled back),
  each once;
- the warnings every patient of the run shares (the unverified regimen, the
  DRAFT banner), once, when there are several patients;
- each patient under its file and identity: its sheets written and its own
  warnings, or its refusal, in the one line scripts and tests know
  ("dosing: refused: FILE: FIELD: problem; fix");
- with several patients, a summary: sheets written, each refused patient with
  its reason, the warnings per patient.

The warnings' words are the sheets' own (dosing.documents.wording.sentences).
Per patient only these few lines are kept until the end, never its documents.
"""

import attrs

#: Where a refusal's reason is said in full, so a script finds it once: the patient's own line.
REFUSED = "dosing: refused: "


@attrs.define
class Patient:
    """One patient file's part of the report."""

    path: str
    patient_id: str = ""  #: "MRN-100001" once the file is read
    identity: str = ""  #: "MRN-100001, Petrov, Mikhail"
    written: int = 0  #: files written
    warnings: list = attrs.Factory(list)  #: the sheets' warnings, a sentence each
    refusal: str = ""  #: the whole refusal: field, problem and fix
    reason: str = ""  #: its field and problem, for the summary

    @property
    def done(self) -> bool:
        return bool(self.written or self.refusal)


@attrs.define
class Report:
    given: int  #: patient files on the command line
    patients: list = attrs.Factory(list)
    notes: list = attrs.Factory(list)

    def patient(self, path) -> Patient:
        """The patient's place in the report, taken in the order given, however late its outcome is known."""
        entry = Patient(_shown(str(path)))
        self.patients.append(entry)
        return entry

    def note(self, lines) -> None:
        self.notes += [line for line in map(_shown, lines) if line not in self.notes]

    @property
    def refused(self) -> list:
        return [p for p in self.patients if p.refusal]

    def shared(self) -> list[str]:
        """The warnings every patient with sheets has (regimen-wide banners), when several patients have sheets."""
        made = [p for p in self.patients if p.written]
        if len(made) < 2:
            return []
        return [w for w in made[0].warnings if all(w in p.warnings for p in made[1:])]

    def lines(self) -> list[str]:
        shared = self.shared()
        lines = [f"note: {note}" for note in self.notes]
        if shared:
            lines += ["Warnings for every patient of this run (on their sheets too):"]
            lines += [f"  warning: {w}" for w in shared]
        for patient in self.patients:
            lines += _patient_lines(patient, shared)
        if self.given > 1:
            lines += _summary(self, shared)
        return lines


def written(entry: Patient, patient, files: int, warnings: list[str]) -> None:
    entry.patient_id, entry.identity = _shown(patient.id), _shown(f"{patient.id}, {patient.name}")
    entry.written, entry.warnings = files, [_shown(w) for w in warnings]


def refused(entry: Patient, exc) -> None:
    """A refusal (dosing.errors.InputError or RegimenError), said as the command has always said it."""
    entry.refusal = _shown(f"{REFUSED}{entry.path}: {exc}")
    entry.reason = _shown(f"{exc.field}: {exc.problem}" if getattr(exc, "field", "") else getattr(exc, "problem", str(exc)))


def _patient_lines(patient: Patient, shared: list[str]) -> list[str]:
    if patient.refusal:
        return [patient.refusal]
    if not patient.written:
        return []
    own = [w for w in patient.warnings if w not in shared]
    kind = "other warning" if shared else "warning"
    said = f", {_count(len(own), kind)}:" if own else f", no {kind}s"
    return [f"{patient.path} ({patient.identity}): {_count(patient.written, 'sheet')} written{said}",
            *(f"  warning: {w}" for w in own)]


def _summary(report: Report, shared: list[str]) -> list[str]:
    made = [p for p in report.patients if p.written]
    refused = report.refused
    sheets = sum(p.written for p in made)
    lines = [f"Summary: {_count(sheets, 'sheet')} written for {len(made)} of {_count(report.given, 'patient')}; "
             f"{len(refused) or 'none'} refused."]
    unfinished = report.given - sum(p.done for p in report.patients)
    if unfinished:
        lines[0] += f" {unfinished} not done: the run was stopped before them."
    if made:
        besides = f" (besides the {len(shared)} for every patient)" if shared else ""
        lines.append(f"  warnings per patient{besides}: "
                     + ", ".join(f"{p.patient_id} {len([w for w in p.warnings if w not in shared])}" for p in made))
    lines += [f"  refused: {p.path}: {p.reason}" for p in refused]
    return lines


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}{'' if number == 1 else 's'}"


def _shown(text: str) -> str:
    """Text from a file or its name, safe to print on a terminal: no control character reaches it."""
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)
