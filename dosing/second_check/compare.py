"""The engine's JSON orders (docs/interfaces.md) set beside the second check's own answer.

Plain data only: the JSON dict, never the engine's objects. Each disagreement
is one sentence naming what differs (drug, route, day) and both values.
Rounded doses and steps must be equal; figures the JSON rounds for print
(weights, volumes, the calculated dose) must agree to within that rounding.
"""

from decimal import Decimal

from .expected import Expected


def _number(value) -> Decimal | None:
    return None if value is None else Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def same(given, mine: Decimal | None, places: int | None = None) -> bool:
    """The JSON's number is `mine`: exactly, or, where the JSON rounds to `places` decimals, to within that rounding."""
    theirs = _number(given)
    if theirs is None or mine is None:
        return theirs is None and mine is None
    if places is None:
        return abs(theirs - mine) <= abs(mine) * Decimal("1e-12")
    return abs(theirs - mine) <= Decimal(5) / 10 ** (places + 1) + abs(mine) * Decimal("1e-12")


def shown(value: Decimal) -> str:
    """A Decimal as a pharmacist reads it: 30, 0.33, or 12 significant figures where it runs on."""
    exact = value.normalize()
    return format(exact, "f") if -exact.as_tuple().exponent <= 12 else format(value, ".12g")


def phase_differences(mine: Expected, orders: dict) -> list[str]:
    said = []
    facts = [
        ("day 1", orders.get("start"), mine.start.isoformat()),
        ("last day", orders.get("last_day"), mine.last_day),
        ("end", orders.get("end"), mine.end.isoformat()),
        ("measurement used", orders.get("measured"), mine.measured.isoformat()),
        ("window", orders.get("window"), {"from": mine.window[0].isoformat(), "to": mine.window[1].isoformat()} if mine.window else None),
        ("infusion start", orders.get("infusion_start"), mine.infusion_start.strftime("%H:%M") if mine.infusion_start else None),
    ]
    said += [f"{what}: the engine gives {theirs}, the second check {ours}" for what, theirs, ours in facts if theirs != ours]
    for what, key, value, places in (("weight", "weight_kg", mine.kg, 4), ("length", "length_cm", mine.cm, 2), ("BSA", "bsa_m2", mine.bsa, 4)):
        if not same(orders.get(key), value, places):
            said.append(f"{what}: the engine gives {orders.get(key)}, the second check {shown(value)}")
    return said


def dose_differences(mine: Expected, orders: dict) -> list[str]:
    said = []
    engine = {}
    for entry in orders.get("administrations", []):
        # a rescue that follows methotrexate levels may give several doses of one drug a day: keyed by their first time too
        key = (entry["drug"], entry["route"], entry["day"]) + ((entry["times"][0],) if entry.get("rescue") else ())
        if key in engine:
            said.append(f"{key[0]} {key[1]} day {key[2]}: the engine orders it twice")
        engine[key] = entry
    for key in sorted(set(engine) - set(mine.given)):
        why = "withholds it (no step within the rounding bound)" if key in mine.withheld else "gives no such dose"
        said.append(f"{key[0]} {key[1]} day {key[2]}: the engine orders {engine[key]['dose']} {engine[key]['unit']}, the second check {why}")
    for key in sorted(set(mine.given) - set(engine)):
        given = mine.given[key]
        said.append(f"{key[0]} {key[1]} day {key[2]}: the engine orders nothing, the second check {shown(given.total)} {given.unit}")
    for key in sorted(set(mine.given) & set(engine)):
        said += _administration(mine.given[key], engine[key])
    withheld = {(w["drug"], w["route"], day) for w in orders.get("withheld", []) for day in w["days"]}
    for key in sorted(withheld ^ mine.withheld):
        said.append(f"{key[0]} {key[1]} day {key[2]}: {'the engine' if key in withheld else 'the second check'} withholds it "
                    f"(no step gives the dose within the rounding bound), {'the second check' if key in withheld else 'the engine'} does not")
    return said


def _administration(given, entry: dict) -> list[str]:
    where = f"{given.drug} {given.route} day {given.day}"
    unit = given.unit
    said = []
    if entry.get("unit") != unit:
        return [f"{where}: the engine orders in {entry.get('unit')}, the second check in {unit}"]
    if not same(entry.get("dose_each"), given.each) or entry.get("times_per_day") != given.times_per_day:
        said.append(f"{where}: the engine gives {entry.get('dose_each')} {unit} × {entry.get('times_per_day')}, "
                    f"the second check {shown(given.each)} {unit} × {given.times_per_day}")
    elif not same(entry.get("dose"), given.total):
        said.append(f"{where}: the engine gives {entry.get('dose')} {unit} that day, the second check {shown(given.total)} {unit}")
    checks = [
        ("age", entry.get("age_months") == given.age_months, entry.get("age_months"), given.age_months),
        ("infant fraction", entry.get("factor") == str(given.factor), entry.get("factor"), str(given.factor)),
        ("clock times", entry.get("times", []) == list(given.times), entry.get("times", []), list(given.times)),
        ("capped", entry.get("capped") == given.capped, entry.get("capped"), given.capped),
        ("rounding step", same(entry.get("step"), given.step), entry.get("step"), given.step and shown(given.step)),
        ("measured by volume", entry.get("measured_by_volume", False) == given.by_volume, entry.get("measured_by_volume", False), given.by_volume),
        ("volume (mL)", same(entry.get("volume_ml"), given.volume, 4), entry.get("volume_ml"), given.volume and shown(given.volume)),
        ("calculated dose", same(entry.get("calculated"), given.calculated * given.times_per_day, 4), entry.get("calculated"),
         shown(given.calculated * given.times_per_day)),
        ("continuous", entry.get("continuous", False) == given.continuous, entry.get("continuous", False), given.continuous),
        ("adjustment by results", (entry.get("adjustment") or {}).get("factor", "1") == str(given.adjustment),
         (entry.get("adjustment") or {}).get("factor", "1"), str(given.adjustment)),
    ]
    said += [f"{where}: {what}: the engine gives {theirs}, the second check {ours}" for what, ok, theirs, ours in checks if not ok]
    parts = entry.get("parts", [])
    if len(parts) != len(given.parts) or any(p.get("fraction") != str(f) or not same(p.get("dose"), amount) or p.get("over") != over
                                            for p, (f, amount, over) in zip(parts, given.parts)):
        said.append(f"{where}: parts of the infusion: the engine gives {[(p.get('fraction'), p.get('dose')) for p in parts]}, "
                    f"the second check {[(str(f), shown(a)) for f, a, _ in given.parts]}")
    return said


BAG_FIELDS = (  # (JSON key, decimals the JSON rounds it to, what a pharmacist calls it)
    ("hours", None, "hours"), ("dose_mcg", 4, "dose (mcg)"), ("volume_ml", 2, "volume infused (mL)"),
    ("rate_ml_per_h", 2, "rate (mL/h)"),
)
PREPARATION_FIELDS = (
    ("reconstituted_ml", 2, "reconstituted drug (mL)"), ("diluent_ml", 2, "diluent (mL)"), ("stabiliser_ml", 2, "stabiliser (mL)"),
    ("bag_volume_ml", 2, "bag volume (mL)"), ("overfill_ml", 2, "overfill (mL)"), ("delivers_mcg", 3, "delivers (mcg)"),
)


def bag_differences(mine: list, bags: list) -> list[str]:
    said = []
    if len(bags) != len(mine):
        said.append(f"bags: the engine plans {len(bags)}, the second check {len(mine)}")
    for theirs, ours in zip(bags, mine):
        where = f"bag {ours.number}"
        preparation = theirs.get("preparation", {})
        if theirs.get("number") != ours.number or theirs.get("start") != ours.start.isoformat(timespec="minutes"):
            said.append(f"{where}: the engine's bag {theirs.get('number')} goes up {theirs.get('start')}, "
                        f"the second check's {ours.start.isoformat(timespec='minutes')}")
        for source, fields in ((theirs, BAG_FIELDS), (preparation, PREPARATION_FIELDS)):
            for key, places, what in fields:
                if not same(source.get(key), getattr(ours, key), places):
                    said.append(f"{where}: {what}: the engine gives {source.get(key)}, the second check {shown(getattr(ours, key))}")
        if preparation.get("vials") != ours.vials:
            said.append(f"{where}: vials: the engine gives {preparation.get('vials')}, the second check {ours.vials}")
        if theirs.get("preservative") != ours.preservative:
            said.append(f"{where}: preservative: the engine gives {theirs.get('preservative')}, the second check {ours.preservative}")
    return said
