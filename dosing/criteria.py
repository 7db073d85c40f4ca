"""The start criteria, checked: the pipeline's step after `body` (docs/reference.md §12).

Each criterion of the phase (results.toml [start_criteria.<phase>], loaded by
dosing.regimen.criteria) is compared with the latest result of its test taken
within the phase's window before day 1 (dosing.results.latest). A criterion
that needs the kidney's clearance compares the bedside Schwartz eGFR, worked
out from that creatinine and the length of the measurement the doses use.

- met: the finding keeps the result that met it; the order sheet prints it;
- not met: a hard stop naming the result (labs[N]) and the criterion, unless
  the pharmacist gives --override-results "REASON", printed on every page;
- no result: the sheet prints the criterion as a box still to be checked,
  and a warning says so;
- a placeholder threshold (?) cannot be judged: the result is printed beside
  the blank the centre fills, and the sheet is a DRAFT.

Facts only: dosing.documents.wording words them.
"""

from datetime import date, timedelta

import attrs

from dosing.body import age_in_months
from dosing.errors import InputError, RegimenError
from dosing.findings import NOTICE, WARNING, Finding
from dosing.regimen.criteria import criterion_text, measured_text
from dosing.results import UMOL_PER_L_PER_MG_DL, creatinine_mg_dl, latest, schwartz_egfr
from dosing.units import Q

MET, NOT_MET, NO_RESULT, NOT_SET = "met", "not met", "no result", "not set"



@attrs.frozen
class Egfr:
    """How a bedside Schwartz eGFR was worked out: k × length (cm) ÷ creatinine (mg/dL)."""

    k: object  #: regimen Value: the constant for the infant's age on the day the creatinine was taken
    age_months: int  #: completed months then
    length_cm: float
    creatinine_mg_dl: float

    @property
    def approximate(self) -> bool:
        """No validated k for the age (a placeholder): the estimate is printed as approximate."""
        return self.k.tag == "?"


@attrs.frozen
class Checked:
    """One criterion and what decided it."""

    criterion: object  #: dosing.regimen.criteria.Criterion
    status: str  #: MET, NOT_MET, NO_RESULT or NOT_SET (a placeholder threshold)
    result: object = None  #: dosing.results.LabResult used (for an eGFR, the creatinine)
    value: object = None  #: the quantity compared: the result's value, or the eGFR
    egfr: Egfr | None = None


@attrs.frozen
class StartCheck:
    """The facts of the "start criteria" finding: every criterion of the phase, checked."""

    phase: str
    within_days: object  #: regimen Value: the window
    start: date
    checked: tuple[Checked, ...]

    @property
    def earliest(self) -> date:
        """The first date a result may be taken on (the last is day 1)."""
        return self.start - timedelta(days=self.within_days.value)

    def having(self, *statuses) -> tuple[Checked, ...]:
        return tuple(c for c in self.checked if c.status in statuses)


@attrs.frozen
class ResultsOverride:
    """The facts of the "results override" notice: the pharmacist's reason and the criteria it went past."""

    reason: str
    unmet: tuple[Checked, ...]


def check(patient, protocol, phase, start: date, measurement, override: str | None = None) -> tuple[Finding, ...]:
    """The findings of the phase's start criteria (none where it has none, as induction).

    A criterion not met stops the sheet (InputError naming labs[N]) unless `override` gives the reason.
    """
    rules = protocol.start_criteria.get(phase.name)
    if rules is None:
        return ()
    within = rules.within_days.value
    checked = tuple(_check(criterion, patient, protocol, start, within, measurement) for criterion in rules.criteria)
    facts = StartCheck(phase=phase.name, within_days=rules.within_days, start=start, checked=checked)
    unmet = facts.having(NOT_MET)
    if unmet and not override:
        raise _refusal(phase, unmet)
    found = [Finding("results override", ResultsOverride(override, unmet), NOTICE)] if override else []
    return (*found, Finding("start criteria", facts, WARNING))


def _check(criterion, patient, protocol, start, within, measurement) -> Checked:
    test = "creatinine" if criterion.test == "egfr" else criterion.test
    result = latest(patient, test, on_or_before=start, within_days=within)
    if result is None:
        return Checked(criterion, NO_RESULT)
    value, egfr = result.value, None
    if criterion.test == "egfr":
        months = age_in_months(patient.birth_date, result.date)
        k = _schwartz(protocol).k_at(months)
        value = schwartz_egfr(result.value, measurement.length, k.value)
        egfr = Egfr(k=k, age_months=months, length_cm=measurement.length.m_as("cm"), creatinine_mg_dl=creatinine_mg_dl(result.value))
    if criterion.placeholder:
        return Checked(criterion, NOT_SET, result, value, egfr)
    met = criterion.met_by(comparable(criterion.test, value, criterion.limit))
    return Checked(criterion, MET if met else NOT_MET, result, value, egfr)


def comparable(test: str, value, limit):
    """A creatinine or bilirubin in the threshold's kind of unit: mg/dL and µmol/L differ by the molar mass."""
    if value.dimensionality == limit.dimensionality:
        return value
    per_mg_dl = UMOL_PER_L_PER_MG_DL[test]
    if limit.check("[substance] / [length] ** 3"):
        return Q(value.m_as("mg/dL") * per_mg_dl, "umol/L")
    return Q(value.m_as("umol/L") / per_mg_dl, "mg/dL")


def _schwartz(protocol):
    """results.toml [schwartz] (dosing/regimen/schwartz.py): an eGFR criterion needs its k."""
    from dosing.regimen.schwartz import load_schwartz  # only a phase with an eGFR criterion reads it

    schwartz = load_schwartz(protocol.directory / "results.toml")
    if schwartz is None:
        raise RegimenError(protocol.directory / "results.toml", None,
                           "a start criterion compares an eGFR, but [schwartz] (the bedside Schwartz k by age) is missing")
    return schwartz


def _refusal(phase, unmet) -> InputError:
    """The hard stop: each result that fails its criterion, by its place in the patient file."""
    said = []
    for c in unmet:
        taken = f"{c.result.date:%d %b %Y}"
        if c.egfr is not None:
            said.append(f"{c.result.field} creatinine {measured_text(c.result.value)} on {taken} gives an eGFR of "
                        f"{measured_text(round(c.value, 1))}{' (approximate)' if c.egfr.approximate else ''}, not "
                        f"{criterion_text(c.criterion).removeprefix(c.criterion.name + ' ')}")
        else:
            said.append(f"{c.result.field} {c.criterion.name} {measured_text(c.result.value)} on {taken} is not "
                        f"{criterion_text(c.criterion).removeprefix(c.criterion.name + ' ')}")
    return InputError(
        unmet[0].result.field,
        f"{phase.title} cannot start: " + "; ".join(said) + f" (start criteria of {phase.name}, {unmet[0].criterion.value.source})",
        "wait until the results meet the criteria and add the new result to [[labs]] in the patient file; a clinician who "
        "decides to start anyway gives --override-results \"REASON\", printed on every page",
    )
