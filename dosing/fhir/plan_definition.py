"""The regimen as a FHIR R4B PlanDefinition (issue 17, item 2), for systems that import protocols.

One top-level action per phase, in the protocol's order, lasting the phase's
length; inside it one action per order of the phase ("dexamethasone PO"), its
dose rule as the regimen writes it, its drug's code and its days. Everything
comes from the loaded regimen (dosing.regimen); nothing is restated here.

How the days are said: a phase's day N is an offset of N - 1 days after the
start of the phase's action (relatedAction "after-start"), and a run of days
the same number of days apart is one Timing.repeat (count, frequency, period).
An order whose days are not one such run (a taper, "38-41, 45-48") holds one
nested action per run, so no receiving system has to guess a day.

The resource is built as plain data and then validated by fhir.resources'
R4B model; what is returned is the model's own JSON, never the unvalidated
dict. fhir.resources is imported inside the function, so the JSON and PDF
paths never load it.
"""

import re

from dosing.formatting import amount, band_text, day_ranges, written
from dosing.regimen import TAG_MEANING, load_phase, weakest
from dosing.units import Q, is_per_day

# http://hl7.org/fhir/R4B/valueset-action-relationship-type.html: "after-start" = the action
# starts (by the offset) after the start of the related one; day 1 is offset 0.
AFTER_START = "after-start"
# The plan's type: http://hl7.org/fhir/R4B/codesystem-plan-definition-type.html ("clinical-protocol":
# a set of activities a patient follows as one protocol). Fixed by the FHIR specification, not by us.
PLAN_TYPE = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/plan-definition-type", "code": "clinical-protocol",
                         "display": "Clinical Protocol"}]}
# Timing.repeat.periodUnit and durationUnit take the FHIR units-of-time codes (a required binding,
# http://hl7.org/fhir/R4B/valueset-units-of-time.html), which are the UCUM codes of the same units.
UNITS_OF_TIME = {"d": "days", "h": "hours"}


def plan_definition(protocol, phases=None) -> dict:
    """The protocol (or the phases named, in the protocol's order) as a validated PlanDefinition (JSON-ready dict)."""
    from fhir.resources.R4B.plandefinition import PlanDefinition

    from dosing.fhir.codes import load_terminology

    terminology = load_terminology(protocol.directory.parent, list(protocol.drugs))
    wanted = tuple(phases) if phases else protocol.phases
    loaded = [load_phase(protocol, name) for name in protocol.phases if name in wanted]
    unknown = [name for name in wanted if name not in protocol.phases]
    if unknown:
        load_phase(protocol, unknown[0])  # refuses with the phases the protocol has (RegimenError)
    tags = _tags(protocol, loaded)
    active = protocol.verified and "?" not in tags
    resource = {
        "resourceType": "PlanDefinition",
        "id": _identifier(protocol.directory.name),
        "name": re.sub(r"[^A-Za-z0-9]", "", protocol.name),
        "title": protocol.name,
        "version": protocol.verification["protocol_version"] if protocol.verified else protocol.version,
        "type": PLAN_TYPE,
        "status": "active" if active else "draft",
        "description": _status_text(protocol, tags),
        "relatedArtifact": _artifacts(protocol),
        "action": [_phase_action(terminology, phase) for phase in loaded],
    }
    return PlanDefinition.model_validate(resource).model_dump(mode="json", exclude_none=True)


def _status_text(protocol, tags: set) -> str:
    """Why the plan is draft or active, in the words the sheets' banner uses."""
    said = [f"{protocol.name} ({protocol.registry}), {protocol.version}."]
    if protocol.verified:
        v = protocol.verification
        said.append(f"Regimen verified by {v['by']} on {v['date']} against {v['protocol_version']}.")
    else:
        said.append("Reference values - not verified against the protocol document: no pharmacist of the treating "
                    "centre has checked these values against the centre's copy of the protocol, so this plan is a draft "
                    f"until [verification] of {protocol.directory.name}/protocol.toml is filled in.")
    if "?" in tags:
        said.append("It holds placeholder values (tag ?) and stays a draft until they are confirmed.")
    said.append("Every value carries a provenance tag (S stated, P published, A assumed, ? placeholder; docs/reference.md), "
                "given in each action's documentation.")
    return " ".join(said)


def _artifacts(protocol) -> list[dict]:
    return [
        {"type": "citation", "label": protocol.registry,
         "display": f"{protocol.name}, trial registration {protocol.registry}",
         # ClinicalTrials.gov's page of a registration is its number under /study/.
         "url": f"https://clinicaltrials.gov/study/{protocol.registry}"},
        {"type": "documentation", "display": "docs/reference.md",
         "citation": f"docs/reference.md: the published sources of every value of the {protocol.name} reference regimen"},
    ]


def _phase_action(terminology, phase) -> dict:
    length = phase.length_days
    said = [f"{phase.title}: {length.value} days (tag {length.tag}: {length.source})."]
    if phase.ends is not None:
        said.append(f"Ends {phase.ends.value}.")
    if phase.next_after_days is not None:
        said.append(f"The next phase starts {phase.next_after_days.value} days after day 1 at the earliest.")
    if phase.tests is not None:
        said.append("Tests: " + "; ".join(f"{t['what']} on day {t['day']}" for t in phase.tests.value) + ".")
    if phase.start_criteria is not None:
        said.append(f"Before day 1: {phase.start_criteria.value}.")
    return {
        "id": _identifier(phase.name),
        "title": phase.title,
        "description": " ".join(said),
        "timingDuration": _duration(length.value, "d"),
        "action": [_order_action(terminology, phase, order) for order in phase.orders],
    }


def _order_action(terminology, phase, order) -> dict:
    runs = _runs(order)
    action = {
        "id": _order_id(phase.name, order.drug.name, order.route),
        "title": f"{order.drug.print_name} {order.route}",
        "description": _order_text(order, runs),
        # RxNorm from regimens/terminology.toml; a code not confirmed there (tag ?) is left out, the name stays
        "code": [{"coding": terminology.drug_codings(order.drug.name), "text": order.drug.name.replace("_", " ")}],
        "documentation": [{"type": "citation", "citation": f"{v.what}: tag {v.tag} ({TAG_MEANING[v.tag]}); {v.source}"}
                          for v in _values(order)],
    }
    if order.timing is not None and order.timing.after is not None:
        action.update(_after(phase, order))
    elif len(runs) == 1:
        action.update(_when(phase, order, *runs[0][1:]))
    else:
        action["action"] = [
            {"id": f"{action['id']}.days-{days[0]}", "title": f"{action['title']}, {_days(days)}",
             "description": f"{text}, {_days(days)}", **_when(phase, order, days, gap)}
            for text, days, gap in runs
        ]
    return action


def _runs(order) -> list[tuple[str, tuple, int]]:
    """(dose rule, days, days apart) for each run of days the same distance apart, within one dose rule."""
    if order.age_bands:
        rules = [(_bands_text(order), order.days)]
    else:
        rules = [(written(s.text) + (f" in {order.divided} divided doses" if order.divided > 1 else ""), s.days)
                 for s in order.steps]
    runs = []
    for text, days in rules:
        start = 0
        while start < len(days):
            gap = days[start + 1] - days[start] if start + 1 < len(days) else 1
            end = start + 1
            while end < len(days) and days[end] - days[end - 1] == gap:
                end += 1
            runs.append((text, tuple(days[start:end]), gap))
            start = end
    return runs


def _when(phase, order, days, gap) -> dict:
    """A run of days as an offset from the phase's start and a Timing.repeat."""
    timing = order.timing
    if order.continuous and phase.course_hours is not None:
        # One infusion running the whole course (blinatumomab: 672 hours), not a dose a day.
        repeat = {"count": 1, "duration": phase.course_hours.value, "durationUnit": "h"}
    elif timing is not None and timing.every_hours is not None:
        repeat = {"count": timing.doses, "frequency": 1, "period": timing.every_hours, "periodUnit": "h"}
    else:
        repeat = {"count": len(days) * order.divided, "frequency": order.divided, "period": gap,
                  "periodUnit": "d"}
    if timing is not None and timing.first_dose_at and re.fullmatch(r"\d\d:\d\d", timing.first_dose_at):
        repeat["timeOfDay"] = [f"{timing.first_dose_at}:00"]
    return {"timingTiming": {"repeat": repeat},
            "relatedAction": [{"actionId": _identifier(phase.name), "relationship": AFTER_START,
                               "offsetDuration": _duration(days[0] - 1, "d")}]}


def _after(phase, order) -> dict:
    """A dose timed from another order ("42, 48, 54 hours after the start of methotrexate").

    Exact where the order it follows is one dose: the offset of the first hour and a repeat
    for the rest. Where it follows each of several doses (mesna after each cyclophosphamide),
    a Timing cannot say "after each", so the relation is given without an offset and the
    hours are in the description, never a count that would be wrong.
    """
    drug, route = order.timing.after
    followed = next(o for o in phase.orders if (o.drug.name, o.route) == (drug, route))
    hours = order.timing.hours
    related = {"actionId": _order_id(phase.name, drug, route), "relationship": AFTER_START}
    single = len(followed.days) == 1 and (followed.timing is None or followed.timing.every_hours is None)
    if not single:
        return {"relatedAction": [related]}
    related["offsetDuration"] = _duration(hours[0], "h")
    gaps = {b - a for a, b in zip(hours, hours[1:])}
    found = {"relatedAction": [related]}
    if len(gaps) <= 1:
        repeat = {"count": len(hours)}
        if gaps:
            repeat.update(frequency=1, period=gaps.pop(), periodUnit="h")
        found["timingTiming"] = {"repeat": repeat}
    return found


def _order_text(order, runs) -> str:
    """The dose rule as the regimen writes it, then what the sheet prints beside it."""
    rule = order.days_value.value
    if isinstance(rule, str) and rule.strip().startswith("every") and len(runs) == 1:
        said = [f"{runs[0][0]}, {rule.strip()}"]
    elif order.timing is not None and order.timing.after is not None:
        hours = ", ".join(f"{h:g}" for h in order.timing.hours)
        said = [f"{runs[0][0]}, at {hours} hours after each dose of {order.timing.after[0].replace('_', ' ')}"]
    else:
        said = ["; ".join(f"{text}, {_days(days)}" for text, days in _merged(runs))]
    if order.cap is not None:
        cap = order.cap.value
        daily = is_per_day(cap)
        said.append(f"maximum {amount(cap * Q(1, 'day') if daily else cap, order.drug.unit)} per {'day' if daily else 'dose'}")
    timing = order.timing
    if timing is not None and timing.every_hours is not None:
        said.append(f"every {timing.every_hours} hours, {timing.doses} doses, the first at {timing.first_dose_at}")
    elif timing is not None and timing.first_dose_at:
        said.append(f"starting at {timing.first_dose_at}")
    for value in (order.duration, order.window):
        if value is not None:
            said.append(value.value)
    if order.infant_fraction is not None and order.infant_fraction.value:
        said.append("reduced by the protocol's infant age fraction")
    if order.route_note:
        said.append(order.route_note)
    text = "; ".join(said) + "."
    return f"{text} {order.drug.label}." if order.drug.label else text


def _merged(runs):
    """Runs of one dose rule said together: '6 mg/m²/day, days 1–28', not one phrase per run."""
    merged = {}
    for text, days, _ in runs:
        merged.setdefault(text, []).extend(days)
    return [(text, tuple(days)) for text, days in merged.items()]


def _bands_text(order) -> str:
    bands = order.age_bands
    return "fixed dose by age on the day of the lumbar puncture: " + ", ".join(
        f"{written(b.text)} {band_text(bands, b)}" for b in bands)


def _days(days) -> str:
    return f"day{'s' if len(days) > 1 else ''} {day_ranges(days)}"


def _values(order) -> list:
    """The order's tagged values, each once, in the order a reader meets them."""
    found = [order.days_value, *(s.value for s in order.steps), order.age_value, order.cap, order.duration,
             order.window, order.infant_fraction, order.timing.value if order.timing else None]
    unique = []
    for value in found:
        if value is not None and all(value is not u for u in unique):
            unique.append(value)
    return unique


def _tags(protocol, phases) -> set:
    tags = set()
    for phase in phases:
        tags.add(phase.length_days.tag)
        for order in phase.orders:
            tags.update(v.tag for v in _values(order))
    return tags | {weakest(tags)}


def _duration(value, unit: str) -> dict:
    """A Duration in UCUM (d, h): the unit the receiving system reads, the word a person reads."""
    return {"value": value, "unit": UNITS_OF_TIME[unit], "system": "http://unitsofmeasure.org", "code": unit}


def _order_id(phase: str, drug: str, route: str) -> str:
    return _identifier(f"{phase}.{drug}.{route}")


def _identifier(name: str) -> str:
    """A FHIR id ([A-Za-z0-9-.]{1,64}): a name with its underscores as hyphens (consolidation_1 -> consolidation-1)."""
    return re.sub(r"[^A-Za-z0-9.-]", "-", name)[:64]
