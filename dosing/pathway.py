"""Risk groups and the pathway through ALL-Baby-2021 (docs/reference.md §2).

`plan` reads the patient's KMT2A and CNS status, MRD results and remission
status, and returns the phases the results lead to so far, the result still
awaited, and why. The MRD threshold and the phases each branch leads to are
regimen data (protocol.toml [pathway]); the branching is here. Every decision is a sentence in `reasons`, so the plan a
pharmacist reads says what it rests on.

The rules, as docs/reference.md §2 states them (S unless noted):
- initial group: no KMT2A rearrangement SR; rearranged, CNS1 IR; rearranged,
  CNS2 or CNS3 HR (A: the registry says "lesions of the CNS");
- SR: day-36 MRD below the threshold (0.1 %) -> consolidation path; at it or
  more -> HR (exactly 0.1 % is HR: A, the safer reading of "more than 0.1 %");
- IR: day-36 MRD negative by PCR -> consolidation path; positive -> HR1, then
  after HR1 negative -> HR2, HR3, protocol II, maintenance; still positive
  (PCR) -> HR: blinatumomab, HSCT;
- HR: HR1 whatever the day-36 MRD, blinatumomab, then HSCT; not in
  morphological remission -> off protocol, nothing further is planned.
"""

from datetime import date, timedelta

import attrs

from dosing.regimen.model import HSCT  # a referral: conditioning is the transplant team's protocol, not dosed here


@attrs.frozen
class Step:
    phase: str
    start: date | None  #: estimated
    end: date | None


@attrs.frozen
class Plan:
    initial_risk: str
    current_risk: str
    phases: tuple[str, ...]
    awaiting: str | None  #: the result the next decision waits for
    off_protocol: bool
    reasons: tuple[str, ...]
    steps: tuple[Step, ...] = ()


def initial_risk(patient) -> tuple[str, str]:
    if patient.kmt2a == "germline":
        return "SR", "SR: no KMT2A rearrangement."
    if patient.cns == "CNS1":
        return "IR", "IR: KMT2A rearranged, no CNS involvement (CNS1)."
    return "HR", f"HR: KMT2A rearranged with CNS involvement ({patient.cns}; A: the registry says \"lesions of the CNS\" without a grade)."


def _mrd(patient, timepoint: str, method: str | None = None):
    """The highest result at a timepoint (by one method, if given): the safer reading of several."""
    results = [r for r in patient.mrd if r.timepoint == timepoint and (method is None or r.method == method)]
    return max(results, key=lambda r: 0 if r.negative else r.value.m_as("percent"), default=None)


def _percent(result) -> float:
    return 0.0 if result.negative else result.value.m_as("percent")


def _describe(result) -> str:
    return "negative" if result.negative else f"{_percent(result):g} %"


def _not_in_remission(patient) -> str | None:
    for record in patient.remission:
        if not record.in_remission:
            return record.timepoint
    return None


def _molecular(patient, timepoint: str):
    """An IR decision: ("positive", worst) by any method, ("negative", result) only by PCR
    (molecular remission), or (None, None) while it cannot be decided."""
    positive = [r for r in patient.mrd if r.timepoint == timepoint and not r.negative]
    if positive:
        return "positive", max(positive, key=_percent)
    negative = _mrd(patient, timepoint, "PCR")
    return ("negative", negative) if negative is not None else (None, None)


def _off_protocol(initial, current, phases, reasons, when: str) -> Plan:
    reasons.append(f"Not in morphological remission {when}: off protocol; nothing further is planned.")
    return Plan(initial, current, tuple(phases), None, True, tuple(reasons))


def plan(patient, protocol) -> Plan:
    """The pathway so far, by the rules of protocol.toml's [pathway] (regimen.Pathway)."""
    rules = protocol.pathway
    threshold = rules.mrd_high_risk_from.value
    at = f"{threshold:g} %"
    consolidation_path, block_path, high_risk_path = rules.consolidation.value, rules.blocks.value, rules.high_risk.value
    initial, why = initial_risk(patient)
    reasons = [why]
    phases = ["induction"]
    current, awaiting = initial, None
    failed = _not_in_remission(patient)
    if failed == "day36":
        return _off_protocol(initial, current, phases, reasons, "on day 36")

    if initial == "SR":
        result = _mrd(patient, "day36")
        if result is None:
            awaiting = "day36 MRD"
            reasons.append(f"Awaiting the day-36 MRD: below {at} continues standard risk, {at} or more moves to high risk.")
        elif _percent(result) < threshold:
            phases += consolidation_path
            reasons.append(f"Day-36 MRD {_describe(result)} ({result.method}) is below {at}: consolidation, re-induction and maintenance.")
        else:
            current = "HR"
            phases += high_risk_path
            exact = f" (exactly {at} is treated as high risk: A, the safer reading of \"more than {at}\")" if _percent(result) == threshold else ""
            reasons.append(f"Day-36 MRD {_describe(result)} ({result.method}) is {at} or more{exact}: moves to high risk, blinatumomab then HSCT.")

    elif initial == "IR":
        outcome, result = _molecular(patient, "day36")
        if outcome == "positive":
            phases.append("HR1")
            reasons.append(f"Day-36 MRD positive ({_describe(result)}, {result.method}): HR1 block.")
            if failed == "after_HR1":
                return _off_protocol(initial, current, phases, reasons, "after HR1")
            outcome, result = _molecular(patient, "after_HR1")
            if outcome == "positive":
                current = "HR"
                phases += high_risk_path
                reasons.append(f"MRD after HR1 still positive ({_describe(result)}, {result.method}): moves to high risk, blinatumomab then HSCT.")
            elif outcome == "negative":
                phases += block_path
                reasons.append("MRD after HR1 negative by PCR: HR2, HR3, protocol II and maintenance.")
            else:
                awaiting = "after_HR1 MRD"
                reasons.append("Awaiting the MRD after HR1 (PCR): negative continues with HR2, HR3 and protocol II; positive moves to high risk.")
        elif outcome == "negative":
            phases += consolidation_path
            reasons.append("Day-36 MRD negative by PCR: consolidation, re-induction and maintenance.")
        else:
            awaiting = "day36 MRD"
            reasons.append("Awaiting the day-36 MRD by PCR: negative continues to consolidation; positive leads to the HR1 block.")

    else:
        phases += ("HR1",) + high_risk_path
        reasons.append("High risk: HR1 block whatever the day-36 MRD, then blinatumomab, then HSCT if in morphological remission.")
        if failed == "after_HR1":
            return _off_protocol(initial, current, ["induction", "HR1"], reasons, "after HR1")

    if HSCT in phases:
        reasons.append("HSCT is a referral: conditioning is the transplant team's protocol and is not dosed here; it requires morphological remission.")
    return Plan(initial, current, tuple(phases), awaiting, False, tuple(reasons))


def with_dates(result: Plan, protocol, patient, induction_start: date | None = None) -> Plan:
    """Estimated dates for each phase: back to back, blocks 21 days apart, maintenance to week 104.

    Estimates only: counts, results and the ward decide the real starts.
    """
    from dosing.regimen import load_phase

    start = induction_start or patient.diagnosis_date
    steps = []
    for name in result.phases:
        if name == HSCT:
            steps.append(Step(HSCT, start, None))
            continue
        phase = load_phase(protocol, name)
        length = phase.length_days.value
        end = phase.last_date(patient.diagnosis_date) or start + timedelta(days=length - 1)
        steps.append(Step(name, start, end))
        gap = phase.next_after_days.value if phase.next_after_days is not None else length
        start = start + timedelta(days=gap)
    return attrs.evolve(result, steps=tuple(steps))
