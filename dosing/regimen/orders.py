"""One [[order]] of a phase file: a drug by a route, its days, its dose and its clock.

The strings follow the grammar (grammar.py); what is checked here is how the
fields of one order fit together: the dose is in the drug's unit, a divided
dose is a daily one, an INTRATHECAL dose comes from an age table, a dose on
a clock is per administration, a taper step is of the same kind as the dose.
"""

import attrs

from dosing.regimen import grammar
from dosing.regimen.model import INTRATHECAL_CLASSES, ROUTES, Drug, Order, SmallInfantRule, Step, Timing, Value
from dosing.regimen.quantities import dose_quantity, parse_size
from dosing.regimen.source import Source, known_keys, read, tagged, text

ORDER_KEYS = (
    "drug", "route", "route_note", "dose", "days", "taper", "infant_fraction",
    "cap", "rounding", "duration", "window", "small_infant",
    "schedule", "first_dose_at", "after", "split", "weekly", "continuous", "note",
)


def dose_of(source, written, line, drug: Drug) -> grammar.Dose:
    """A dose string read by the grammar, in the drug's own unit."""
    if not isinstance(written, str):
        raise source.error(line, f"dose {written!r} must be text with its unit, such as \"1.5 mg/m2\"")
    try:
        found = grammar.dose(written)
    except ValueError as exc:
        raise source.error(line, f"dose {written!r}: {exc}") from None
    if found.unit != drug.unit:
        raise source.error(line, f"{drug.name} is ordered in {drug.unit}, not {found.unit} ({written!r})")
    return found


def amount_setting(source, entries, key: str, line, drug: Drug) -> Value:
    """A cap or a rounding step: a fixed amount in the drug's unit (a cap may be per day)."""
    value = tagged(source, entries, key, line, key)
    at = source.key_line(key, line)
    found = dose_of(source, value.value, at, drug)
    if found.per or found.per_day and key == "rounding":
        raise source.error(at, f"{key} must be an amount such as \"2 {drug.unit}\", got {value.value!r}")
    return attrs.evolve(value, value=dose_quantity(found))


def load_order(source: Source, protocol, raw: dict, line: int | None, length: int, earlier=()) -> Order:
    if not isinstance(raw, dict):
        raise source.error(line, "each [[order]] must be a table")
    known_keys(source, raw, ORDER_KEYS, line, "an order")
    drug_name = raw.get("drug")
    if not isinstance(drug_name, str) or drug_name not in protocol.drugs:
        raise source.error(source.key_line("drug", line), f"unknown drug {drug_name!r}; known drugs: {', '.join(protocol.drugs)}")
    drug = protocol.drugs[drug_name]
    route = raw.get("route")
    if not isinstance(route, str) or route not in ROUTES:
        raise source.error(source.key_line("route", line), f"unknown route {route!r}; use one of {', '.join(ROUTES)}")
    if route == "INTRATHECAL" and drug.drug_class not in INTRATHECAL_CLASSES:
        raise source.error(source.key_line("route", line), f"{drug.name} must never be given INTRATHECAL; only methotrexate, cytarabine and corticosteroids may")
    if route not in drug.routes:
        raise source.error(source.key_line("route", line), f"route {route} is not allowed for {drug.name}; allowed: {', '.join(drug.routes)}")
    at = lambda key: source.key_line(key, line)  # noqa: E731

    timing, anchor_days = _timing(source, raw, line, earlier)
    if timing is not None and timing.after is not None:
        if "days" in raw:
            raise source.error(at("days"), "an order timed after another takes its days from that order; remove days")
        days_value, days = timing.value, anchor_days
    else:
        days_value = tagged(source, raw, "days", line, "days")
        days = read(source, at("days"), grammar.days, days_value.value, length)
    fields = dict(drug=drug, route=route, line=line, days=days, days_value=days_value, timing=timing)
    for key in ("weekly", "continuous"):
        if key in raw:
            if not isinstance(raw[key], bool):
                raise source.error(at(key), f"{key} must be true or false")
            fields[key] = raw[key]
    if fields.get("weekly") and any(b - a != 7 for a, b in zip(days, days[1:])):
        raise source.error(at("days"), f"a weekly order must fall every 7 days; days {list(days)} do not")
    if "note" in raw:
        fields["note"] = text(source, raw, "note", line)
    if timing is not None and timing.every_hours is not None and timing.first_dose_at != "infusion start":
        first_hour = int(timing.first_dose_at[:2])
        span = (first_hour + timing.every_hours * (timing.doses - 1)) // 24 + 1
        if len(days) != span or days != tuple(range(days[0], days[0] + span)):
            raise source.error(at("days"), f"{timing.doses} doses every {timing.every_hours} hours from day {days[0]} fall on days {days[0]}-{days[0] + span - 1}; days must say so")
    if "route_note" in raw:
        fields["route_note"] = text(source, raw, "route_note", line)

    dose = raw.get("dose")
    if isinstance(dose, dict) and "age_table" in dose:
        fields.update(_from_age_table(source, protocol, raw, at("dose"), drug))
    else:
        if route == "INTRATHECAL":
            raise source.error(at("dose"), "INTRATHECAL doses are fixed by age and never from BSA or weight: use dose = { age_table = \"...\" }")
        fields.update(_computed(source, raw, line, drug, days, length, timing, fields.get("continuous")))

    defaults = protocol.drug_settings.get(drug.name, {})
    for key in ("cap", "rounding"):
        if key in raw:
            fields[key] = amount_setting(source, raw, key, line, drug)
        elif key in defaults and "steps" in fields:
            fields[key] = defaults[key]
    if "steps" in fields and "rounding" not in fields:
        raise source.error(line, f"no rounding step for {drug.name}: set rounding on the order or under [drugs.{drug.name}] in protocol.toml")
    for key in ("duration", "window"):
        if key in raw:
            fields[key] = tagged(source, raw, key, line, key)
            if not isinstance(fields[key].value, str):
                raise source.error(at(key), f"{key} must be text")
    return Order(**fields)


def _from_age_table(source, protocol, raw, at, drug) -> dict:
    dose = raw["dose"]
    if set(dose) != {"age_table"}:
        raise source.error(at, "a dose from an age table names only the table: dose = { age_table = \"...\" }")
    table = protocol.age_tables.get(dose["age_table"]) if isinstance(dose["age_table"], str) else None
    if table is None:
        raise source.error(at, f"no age table {dose['age_table']!r} in protocol.toml; it has {', '.join(protocol.age_tables)}")
    bands, value = table
    for band in bands:
        if grammar.dose(band.text).unit != drug.unit:
            raise source.error(at, f"{drug.name} is ordered in {drug.unit}, the age table gives {band.text}")
    fraction = raw.get("infant_fraction")
    if "taper" in raw or (isinstance(fraction, dict) and fraction.get("value") is True):
        raise source.error(at, "an age-table dose is fixed: no taper, divided doses or infant fraction")
    return dict(age_bands=bands, age_value=value)


def _computed(source, raw, line, drug, days, length, timing, continuous) -> dict:
    """A dose worked out from BSA or weight: its steps (full dose, then any taper) and how it is given."""
    at = lambda key: source.key_line(key, line)  # noqa: E731
    fields = {}
    value = tagged(source, raw, "dose", line, "dose", extra=("divided",))
    dose = dose_of(source, value.value, at("dose"), drug)
    steps = [Step(days=days, basis=dose_quantity(dose), text=value.value, value=attrs.evolve(value, what="dose"))]
    divided = read(source, at("dose"), grammar.divided, raw["dose"].get("divided", 1))
    if divided > 1 and not dose.per_day:
        raise source.error(at("dose"), f"divided = {divided} needs a daily dose such as \"6 mg/m2/day\"; {value.value!r} is per administration")
    fields["divided"] = divided
    if timing is not None and (timing.every_hours or timing.after) and (dose.per_day or divided > 1):
        raise source.error(at("dose"), "a dose given on a clock is per administration, not per day")
    if continuous and (not dose.per_day or divided > 1):
        raise source.error(at("dose"), "a continuous infusion is dosed per day, such as \"15 mcg/m2/day\"")
    if "split" in raw:
        split = tagged(source, raw, "split", line, "infusion split")
        fields["split"] = attrs.evolve(split, value=read(source, at("split"), grammar.split, split.value))
    if "taper" in raw:
        taper = attrs.evolve(tagged(source, raw, "taper", line, "taper"), what="taper")
        if not isinstance(taper.value, list) or not taper.value:
            raise source.error(at("taper"), "taper must be a list of { days, dose } steps")
        for stage in taper.value:
            if not isinstance(stage, dict) or set(stage) != {"days", "dose"}:
                raise source.error(at("taper"), "each taper step is { days = \"29-31\", dose = \"3 mg/m2/day\" }")
            stage_dose = dose_of(source, stage["dose"], at("taper"), drug)
            if stage_dose.per != dose.per or stage_dose.per_day != dose.per_day:
                raise source.error(at("taper"), f"taper dose {stage['dose']!r} is not of the same kind as {value.value!r}")
            steps.append(Step(days=read(source, at("taper"), grammar.days, stage["days"], length), basis=dose_quantity(stage_dose),
                              text=stage["dose"], value=taper))
    seen = set()
    for step in steps:
        if seen & set(step.days):
            raise source.error(at("taper"), f"days {sorted(seen & set(step.days))} have two doses")
        seen |= set(step.days)
    fields["steps"] = tuple(steps)
    fields["days"] = tuple(sorted(seen))
    if "infant_fraction" not in raw:
        raise source.error(line, f"the {drug.name} order must say whether the infant fraction applies: infant_fraction = {{ value = true, tag = ..., source = ... }}")
    fraction = tagged(source, raw, "infant_fraction", line, "infant fraction applies")
    if not isinstance(fraction.value, bool):
        raise source.error(at("infant_fraction"), "infant_fraction must be true or false")
    fields["infant_fraction"] = fraction
    if "small_infant" in raw:
        fields["small_infant"] = _small_infant(source, raw, line, drug)
    return fields


def _timing(source: Source, raw: dict, line, earlier) -> tuple[Timing | None, tuple[int, ...]]:
    """The clock of an order: a series, a time of day, or hours after another order."""
    at = lambda key: source.key_line(key, line)  # noqa: E731
    first = raw.get("first_dose_at")
    if first is not None:
        read(source, at("first_dose_at"), grammar.clock, first)
    if "after" in raw:
        value = tagged(source, raw, "after", line, "timing")
        drug, route, hours = read(source, at("after"), grammar.hours_after, value.value)
        anchor = next((o for o in earlier if (o.drug.name, o.route) == (drug, route)), None)  # == only: no hashing of file values
        if anchor is None or anchor.timing is None or (anchor.timing.first_dose_at is None and anchor.timing.after is None):
            raise source.error(at("after"), f"{drug} {route} must be ordered earlier in the file, with first_dose_at")
        if first is not None or "schedule" in raw:
            raise source.error(at("after"), "an order timed after another has no first_dose_at or schedule of its own")
        # The days follow from the clock. Here, every day they can reach: an anchor dose
        # at 00:00 moves h hours to day offset h // 24, one at 23:59 to (h + 23.99) // 24.
        reach = {d + k for d in anchor.days for h in hours for k in range(int(h // 24), int((h + 23.99) // 24) + 1)}
        return Timing(after=(drug, route), hours=hours, value=value), tuple(sorted(reach))
    if "schedule" in raw:
        value = tagged(source, raw, "schedule", line, "dose schedule")
        if first is None:
            raise source.error(at("schedule"), 'schedule reads "every 12 hours, 5 doses", with first_dose_at = "08:00"')
        every, doses = read(source, at("schedule"), grammar.series, value.value)
        return Timing(first_dose_at=first, every_hours=every, doses=doses, value=value), ()
    if first is not None:
        return Timing(first_dose_at=first), ()
    return None, ()


def no_double_orders(source: Source, orders) -> None:
    """One entry per drug per day per route (the JSON contract), so no two orders overlap."""
    for i, first in enumerate(orders):
        for second in orders[i + 1:]:
            if (first.drug, first.route) == (second.drug, second.route):
                common = set(first.days) & set(second.days)
                if common:
                    raise source.error(second.line, f"{second.drug.name} {second.route} is ordered twice on days {sorted(common)}")


def _small_infant(source, raw: dict, line, drug: Drug) -> SmallInfantRule:
    value = tagged(source, raw, "small_infant", line, "small-infant label dose", extra=("when_weight_at_most", "when_bsa_below", "use"))
    entry = raw["small_infant"]
    at = source.key_line("small_infant", line)
    dose = dose_of(source, value.value, at, drug)
    if dose.per != "kg":
        raise source.error(at, f"small_infant dose must be per kg, got {value.value!r}")
    conditions = [k for k in ("when_weight_at_most", "when_bsa_below") if k in entry]
    if len(conditions) != 1 or not isinstance(entry.get("use"), bool):
        raise source.error(at, "small_infant needs one of when_weight_at_most or when_bsa_below, and use = true or false")
    try:
        threshold = parse_size(entry[conditions[0]])
    except ValueError as exc:
        raise source.error(at, f"small_infant threshold: {exc}") from None
    wanted = "[mass]" if conditions[0] == "when_weight_at_most" else "[length] ** 2"
    if not threshold.check(wanted):
        raise source.error(at, f"{conditions[0]} must be a {'weight in kg' if wanted == '[mass]' else 'BSA in m2'}")
    return SmallInfantRule(
        basis=dose_quantity(dose),
        text=value.value,
        weight_at_most=threshold if conditions[0] == "when_weight_at_most" else None,
        bsa_below=threshold if conditions[0] == "when_bsa_below" else None,
        use=entry["use"],
        value=value,
    )
