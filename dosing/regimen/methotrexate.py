"""methotrexate.toml: hydration, the folinic acid rescue by level, glucarpidase and interacting medicines.

Read and checked here, each value kept with its tag and source (a Value), so
the sheet prints where every threshold comes from (docs/reference.md §12,
regimens/SCHEMA.md "methotrexate.toml"). A folder without the file has no
high-dose methotrexate rules: `load` gives None and the phase's own folinic
acid orders stand, as before the file existed.
"""

import re
from functools import cache
from pathlib import Path

import attrs

from dosing.regimen import grammar
from dosing.regimen.model import Value
from dosing.regimen.quantities import dose_quantity
from dosing.regimen.source import Source, known_keys, table, tagged, text
from dosing.units import Q

FILE = "methotrexate.toml"


@attrs.frozen
class Interaction:
    """A class of medicines that raises methotrexate exposure, with the names a ward writes."""

    drug_class: str
    names: tuple[str, ...]
    effect: Value  #: value: what it does, as the label says; tag and source

    def matches(self, medication: str) -> str | None:
        """The name this class is known by in `medication`, or None: spaces, hyphens, slashes and case ignored."""
        written = _letters(medication)
        return next((name for name in self.names if _letters(name) in written), None)


def _letters(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


@attrs.frozen
class HighDose:
    """Everything methotrexate.toml says, each value tagged (value: the number in its unit as named)."""

    hydration_before: Value  #: value: pint mL/m²; `before_hours`: over how long
    before_hours: int
    hydration_during: Value  #: value: pint mL/m²/day
    after_days: Value  #: value: int
    urine_ph_above: Value  #: value: number
    rescue_dose: Value  #: value: the dose text, "15 mg/m2"
    from_hour: Value  #: value: number
    every_hours: Value
    stop_below: Value  #: value: µmol/L
    cohen: Value  #: value: the note printed on the sheet
    caveat: Value
    early: Value  #: value: ((at_hour, at_least µmol/L), ...), rising hours
    creatinine_doubled_at_hour: Value
    escalated: Value  #: value: {"dose": "150 mg", "every_hours": 3, "until_below": 1}
    then: Value  #: value: {"dose": "15 mg", "every_hours": 3}
    late: Value  #: value: {"at_hour": 72, "above": 0.2}
    draw_at_hours: Value  #: value: (24, 36, 42, 48)
    then_every_hours: Value
    judged_by: Value
    glucarpidase: Value  #: value: ((at_hour, above µmol/L), ...)
    infusion_at_most_hours: Value
    with_creatinine: Value
    best_within_hours: Value  #: value: (48, 60)
    glucarpidase_dose: Value  #: value: the dose text, "50 units/kg"
    glucarpidase_from_months: Value
    folinic_gap_hours: Value
    assay_hours: Value
    interactions: tuple[Interaction, ...]
    path: Path


def load(directory: Path) -> HighDose | None:
    """The protocol folder's methotrexate.toml, or None where it has none."""
    path = Path(directory) / FILE
    return _load(path.resolve()) if path.is_file() else None


@cache
def _load(path: Path) -> HighDose:
    source = Source(path)
    data = source.data
    known_keys(source, data, ("hydration", "rescue", "escalation", "levels", "glucarpidase", "interaction"), None, "the file")

    def section(name, keys):
        line = source.header_line(f"[{name}]")
        entries = table(source, data, name, line)
        known_keys(source, entries, keys, line, f"[{name}]")
        return {key: tagged(source, entries, key, line, f"{name} {key.replace('_', ' ')}", extra=("over_hours",) if key == "before" else ())
                for key in keys}, line, entries

    hydration, line, raw = section("hydration", ("before", "during", "after_days", "urine_ph_above"))
    before = _volume(source, hydration["before"], source.key_line("before", line), "mL/m2")
    hours = raw["before"].get("over_hours")
    if not _whole(hours, 1, 48):
        raise source.error(source.key_line("before", line), "before needs over_hours = 6: the hours the volume runs over, 1 to 48")
    during = _volume(source, hydration["during"], source.key_line("during", line), "mL/m2/day")
    _check(source, hydration["after_days"], line, "after_days", _whole(hydration["after_days"].value, 0, 7), "a whole number of days, 0 to 7")
    _check(source, hydration["urine_ph_above"], line, "urine_ph_above", _number(hydration["urine_ph_above"].value, 5, 9), "a pH from 5 to 9")

    rescue, line, _ = section("rescue", ("dose", "from_hour", "every_hours", "stop_below", "note"))
    try:
        dose = grammar.dose(rescue["dose"].value)
    except (ValueError, TypeError):
        dose = None
    if dose is None or dose.per != "m2" or dose.per_day or dose.unit != "mg":
        raise source.error(source.key_line("dose", line), 'the rescue dose is per m² for one administration, e.g. "15 mg/m2"')
    _check(source, rescue["from_hour"], line, "from_hour", _number(rescue["from_hour"].value, 0, 240), "an hour after the start, 0 to 240")
    _check(source, rescue["every_hours"], line, "every_hours", _whole(rescue["every_hours"].value, 1, 24), "whole hours, 1 to 24")
    _check(source, rescue["stop_below"], line, "stop_below", _number(rescue["stop_below"].value, 0, 10), "a level in µmol/L above 0")

    escalation, line, _ = section("escalation", ("caveat", "early", "creatinine_doubled_at_hour", "escalated", "then", "late"))
    early = attrs.evolve(escalation["early"], value=_rows(source, escalation["early"], source.key_line("early", line), "at_least"))
    for key, fields in (("escalated", ("dose", "every_hours", "until_below")), ("then", ("dose", "every_hours")), ("late", ("at_hour", "above"))):
        value = escalation[key].value
        if not isinstance(value, dict) or set(value) != set(fields) or not all(
                _fixed_mg(v) if k == "dose" else _number(v, 0, 240) for k, v in value.items()):
            raise source.error(source.key_line(key, line), f"{key} is {{ {', '.join(fields)} }}: a dose such as \"150 mg\", hours and levels as numbers")

    levels, line, _ = section("levels", ("draw_at_hours", "then_every_hours", "judged_by"))
    draws = levels["draw_at_hours"].value
    if not isinstance(draws, list) or not draws or not all(_number(h, 0, 240) for h in draws) or draws != sorted(set(draws)):
        raise source.error(source.key_line("draw_at_hours", line), "draw_at_hours is a rising list of hours, e.g. [24, 36, 42, 48]")
    _check(source, levels["then_every_hours"], line, "then_every_hours", _whole(levels["then_every_hours"].value, 1, 72), "whole hours, 1 to 72")

    glucarpidase, line, _ = section("glucarpidase", ("criteria", "infusion_at_most_hours", "with_creatinine", "best_within_hours", "dose",
                                                     "from_age_months", "folinic_gap_hours", "assay_hours"))
    criteria = attrs.evolve(glucarpidase["criteria"], value=_rows(source, glucarpidase["criteria"], source.key_line("criteria", line), "above"))
    window = glucarpidase["best_within_hours"].value
    if not isinstance(window, list) or len(window) != 2 or not all(_number(h, 0, 240) for h in window) or window[0] > window[1]:
        raise source.error(source.key_line("best_within_hours", line), "best_within_hours is [from, to], e.g. [48, 60]")
    for key in ("infusion_at_most_hours", "from_age_months", "folinic_gap_hours", "assay_hours"):
        _check(source, glucarpidase[key], line, key, _number(glucarpidase[key].value, 0, 240), "a number of hours (or months)")

    return HighDose(
        hydration_before=before, before_hours=hours, hydration_during=during, after_days=hydration["after_days"],
        urine_ph_above=hydration["urine_ph_above"], rescue_dose=rescue["dose"], from_hour=rescue["from_hour"],
        every_hours=rescue["every_hours"], stop_below=rescue["stop_below"], cohen=rescue["note"], caveat=escalation["caveat"],
        early=early, creatinine_doubled_at_hour=escalation["creatinine_doubled_at_hour"], escalated=escalation["escalated"],
        then=escalation["then"], late=escalation["late"], draw_at_hours=attrs.evolve(levels["draw_at_hours"], value=tuple(draws)),
        then_every_hours=levels["then_every_hours"], judged_by=levels["judged_by"], glucarpidase=criteria,
        infusion_at_most_hours=glucarpidase["infusion_at_most_hours"], with_creatinine=glucarpidase["with_creatinine"],
        best_within_hours=attrs.evolve(glucarpidase["best_within_hours"], value=tuple(window)), glucarpidase_dose=glucarpidase["dose"],
        glucarpidase_from_months=glucarpidase["from_age_months"], folinic_gap_hours=glucarpidase["folinic_gap_hours"],
        assay_hours=glucarpidase["assay_hours"], interactions=_interactions(source, data), path=path,
    )


def _interactions(source, data) -> tuple[Interaction, ...]:
    entries = data.get("interaction", [])
    if not isinstance(entries, list):
        raise source.error(None, "interactions are [[interaction]] tables")
    found = []
    for i, raw in enumerate(entries):
        line = source.header_line("[[interaction]]", i)
        known_keys(source, raw, ("class", "names", "effect"), line, "[[interaction]]")
        names = raw.get("names")
        if not isinstance(names, list) or not names or not all(isinstance(n, str) and _letters(n) for n in names):
            raise source.error(source.key_line("names", line), "names is a list of the names a ward writes, e.g. [\"omeprazole\", \"Losec\"]")
        found.append(Interaction(drug_class=text(source, raw, "class", line), names=tuple(names),
                                 effect=tagged(source, raw, "effect", line, "interacting medicine")))
    return tuple(found)


def _volume(source, value: Value, line, unit: str) -> Value:
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*" + re.escape(unit) + r"\s*", value.value) if isinstance(value.value, str) else None
    if not match or not float(match.group(1)) > 0:
        raise source.error(line, f"{value.value!r} is a volume such as \"1000 {unit}\"")
    return attrs.evolve(value, value=Q(float(match.group(1)), unit.replace("m2", "m**2")))


def _rows(source, value: Value, line, key: str) -> tuple:
    rows = value.value
    if not isinstance(rows, list) or not rows or not all(
            isinstance(r, dict) and set(r) == {"at_hour", key} and _number(r["at_hour"], 0, 240) and _number(r[key], 0, 10_000) for r in rows):
        raise source.error(line, f"a list of {{ at_hour = 24, {key} = 50 }}: hours after the start and levels in µmol/L")
    hours = [r["at_hour"] for r in rows]
    if hours != sorted(set(hours)):
        raise source.error(line, "the rows' hours must rise")
    return tuple((r["at_hour"], r[key]) for r in rows)


def _check(source, value: Value, line, key: str, ok: bool, wanted: str) -> None:
    if not ok:
        raise source.error(source.key_line(key, line), f"{key} {value.value!r} must be {wanted}")


def _number(value, low, high) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and low <= value <= high and (value > 0 or low == 0)


def _whole(value, low, high) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _fixed_mg(text) -> bool:
    try:
        found = grammar.dose(text)
    except (ValueError, TypeError):
        return False
    return found.unit == "mg" and not found.per and not found.per_day


def dose_of(text: str):
    """A dose string of this file as a pint quantity ("15 mg/m2", "150 mg")."""
    return dose_quantity(grammar.dose(text))
