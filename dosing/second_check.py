"""The second, independent calculation of every dose.

Computed twice on purpose. This module shares nothing with the pint engine
but the data: it reads the regimen TOML files itself, converts the patient's
weight and length with its own table, works its own BSA, age and timings, and
does plain Decimal arithmetic. `verify` compares its answer with the engine's
for every administration (drug, route, day, dose, doses that day) and every
bag; any disagreement refuses the sheet.

It trusts the files to be valid (the regimen loader checked them): its job is
to catch an arithmetic or logic slip, not a malformed file.
"""

import re
import tomllib
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, getcontext
from functools import lru_cache
from fractions import Fraction

from dosing.errors import InputError
from dosing.units import unit

getcontext().prec = 34

# Conversion factors to kg and cm, by unit as a patient file may write it. A unit
# not listed here is converted by pint instead (and the sheet is still checked).
TO_KG = {"kg": "1", "kilogram": "1", "kilograms": "1", "g": "0.001", "gram": "0.001", "grams": "0.001",
         "mg": "0.000001", "lb": "0.45359237", "lbs": "0.45359237", "pound": "0.45359237", "pounds": "0.45359237",
         "oz": "0.028349523125", "ounce": "0.028349523125", "ounces": "0.028349523125", "stone": "6.35029318"}
TO_CM = {"cm": "1", "centimeter": "1", "centimeters": "1", "centimetre": "1", "centimetres": "1", "mm": "0.1",
         "millimeter": "0.1", "millimeters": "0.1", "m": "100", "meter": "100", "meters": "100", "metre": "100",
         "metres": "100", "in": "2.54", "inch": "2.54", "inches": "2.54", "ft": "30.48", "foot": "30.48", "feet": "30.48",
         "dm": "10"}


def _measure(quantity, table: dict, unit: str) -> Decimal:
    written = str(quantity.units)
    symbol = format(quantity.units, "~")
    for name in (written, symbol):
        if name in table:
            return Decimal(repr(quantity.magnitude)) * Decimal(table[name])
    return Decimal(repr(quantity.m_as(unit)))


@lru_cache(maxsize=4096)
def _months(born: date, on: date) -> int:
    """Completed months, counted forward month by month (the engine subtracts; this adds)."""
    import calendar

    months = 0
    while True:
        year, month = divmod(born.month - 1 + months + 1, 12)
        year, month = born.year + year, month + 1
        anniversary = date(year, month, min(born.day, calendar.monthrange(year, month)[1]))
        if anniversary > on:
            return months
        months += 1


def _bsa(formula: str, kg: Decimal, cm: Decimal) -> Decimal:
    if formula == "mosteller":
        return (cm * kg / 3600).sqrt()
    if formula == "haycock":
        return Decimal("0.024265") * cm ** Decimal("0.3964") * kg ** Decimal("0.5378")
    if formula == "dubois":
        return Decimal("0.007184") * cm ** Decimal("0.725") * kg ** Decimal("0.425")
    if formula == "gehan_george":
        return Decimal("0.0235") * cm ** Decimal("0.42246") * kg ** Decimal("0.51456")
    grams = kg * 1000
    return Decimal("0.0003207") * cm ** Decimal("0.3") * grams ** (Decimal("0.7285") - Decimal("0.0188") * grams.log10())


def _half_up(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step


@lru_cache(maxsize=512)
def _amount(text: str):
    """'1.5 mg/m2/day' -> (Decimal('1.5'), per_m2, per_kg, per_day)."""
    number, unit = text.split(maxsplit=1)
    unit = unit.replace(" ", "")
    return Decimal(number), "/m2" in unit, "/kg" in unit, unit.endswith("/day")


def _days(value, length: int) -> list[int]:
    if isinstance(value, list):
        return sorted(value)
    every = re.fullmatch(r"\s*every (\d+) days?(?: from day (\d+))?\s*", value)
    if every:
        return list(range(int(every.group(2) or 1), length + 1, int(every.group(1))))
    days = []
    for part in value.split(","):
        first, _, last = part.strip().partition("-")
        days += range(int(first), int(last or first) + 1)
    return days


@lru_cache(maxsize=64)
def _toml(path, stamp) -> dict:
    """A data file parsed once per process while it is unchanged (stamp: size and mtime)."""
    return tomllib.loads(path.read_text(encoding="utf-8"))


def _read(path) -> dict:
    status = path.stat()
    return _toml(path, (status.st_size, status.st_mtime_ns))


def expected(orders) -> tuple[dict, set]:
    """{(drug, route, day): (dose per administration, doses that day)} from the data alone,
    and the (drug, route) of continuous infusions."""
    directory = orders.protocol.directory
    protocol = _read(directory / "protocol.toml")
    phase_file = _read(directory / f"{orders.phase.name}.toml")
    source = phase_file["phase"].get("orders_from", orders.phase.name)
    raw_orders = _read(directory / f"{source}.toml")["order"]
    if orders.substitution is not None:
        raw_orders = _substituted(raw_orders, _read(directory / "substitutions.toml")[orders.substitution.name])
    patient, measurement = orders.patient, orders.measurement
    kg, cm = _measure(measurement.weight, TO_KG, "kg"), _measure(measurement.length, TO_CM, "cm")
    area = _bsa(protocol["bsa"]["formula"]["value"], kg, cm)
    if "rounding" in protocol["bsa"]:
        area = _half_up(area, Decimal(protocol["bsa"]["rounding"]["value"].split()[0]))
    bound = Decimal(protocol["rounding"]["max_change"]["value"].strip(" %")) / 100 if "rounding" in protocol else None
    bands = [(b["below_months"], Fraction(b["factor"])) for b in protocol["infant_fraction"]["bands"]["value"]]
    length = orders.last_day
    continuous = set()
    start_clock = datetime.combine(orders.start, orders.infusion_start) if orders.infusion_start else None
    found, clocks = {}, {}
    for raw in raw_orders:
        drug, route = raw["drug"], raw["route"]
        if raw.get("continuous"):
            continuous.add((drug, route))
        settings = protocol.get("drugs", {}).get(drug, {})
        dose = raw["dose"]
        # The clock of each dose: (day, moment or None)
        if "after" in raw:
            after = raw["after"]["value"]
            slots = [(None, m + timedelta(hours=h)) for m in clocks[(after["drug"], after["route"])] for h in after["hours"]]
        elif "schedule" in raw:
            every, count = map(int, re.findall(r"\d+", raw["schedule"]["value"]))
            first_day = _days(raw["days"]["value"], length)[0]
            first = start_clock.time() if raw["first_dose_at"] == "infusion start" else datetime.strptime(raw["first_dose_at"], "%H:%M").time()
            t0 = datetime.combine(orders.start + timedelta(days=first_day - 1), first)
            slots = [(None, t0 + timedelta(hours=every * i)) for i in range(count)]
        elif "first_dose_at" in raw:
            first = start_clock.time() if raw["first_dose_at"] == "infusion start" else datetime.strptime(raw["first_dose_at"], "%H:%M").time()
            slots = [(None, datetime.combine(orders.start + timedelta(days=d - 1), first)) for d in _days(raw["days"]["value"], length)]
        else:
            divided = dose.get("divided", 1) if isinstance(dose, dict) else 1
            days = _days(raw["days"]["value"], length) + [d for t in raw.get("taper", {}).get("value", []) for d in _days(t["days"], length)]
            slots = [(d, None) for d in days for _ in range(divided)]
        clocks[(drug, route)] = [m for _, m in slots if m is not None]
        per_day: dict[int, int] = {}
        for day, moment in slots:
            day = day if moment is None else (moment.date() - orders.start).days + 1
            if day <= length:
                per_day[day] = per_day.get(day, 0) + 1
        steps = [] if "age_table" in dose else [(set(_days(raw["days"]["value"], length)) if "days" in raw else None, dose["value"])]
        if "taper" in raw:
            steps += [(set(_days(t["days"], length)), t["dose"]) for t in raw["taper"]["value"]]
        for day, count in per_day.items():
            on = orders.start + timedelta(days=day - 1)
            if orders.window is not None and not orders.window[0] <= on <= orders.window[1]:
                continue  # not printed, so not checked: the engine computed only the window too
            months = _months(patient.birth_date, on)
            if "age_table" in dose:
                table = protocol["age_tables"][dose["age_table"]]["dose"]["value"]
                amount = Decimal(next(b for b in reversed(table) if b["from_months"] <= months)["dose"].split()[0])
                found[(drug, route, day)] = (amount, count)
                continue
            text = next(t for days, t in steps if days is None or day in days)
            fraction_on = raw["infant_fraction"]["value"]
            label = raw.get("small_infant")
            if label and label["use"] and (
                ("when_weight_at_most" in label and kg <= Decimal(label["when_weight_at_most"].split()[0]))
                or ("when_bsa_below" in label and area < Decimal(label["when_bsa_below"].split()[0]))
            ):
                text, fraction_on = label["value"], False
            value, per_m2, per_kg, daily = _amount(text)
            one = value * (area if per_m2 else kg if per_kg else 1)
            if daily:
                one /= dose.get("divided", 1)
            factor = next((f for below, f in bands if months < below), Fraction(1)) if fraction_on else Fraction(1)
            one = one * factor.numerator / factor.denominator
            cap = raw.get("cap", settings.get("cap"))
            if cap:
                limit, _, _, cap_daily = _amount(cap["value"])
                one = min(one, limit / count if cap_daily else limit)
            step = raw.get("rounding", settings.get("rounding"))
            if step:
                one = _within(one, Decimal(step["value"].split()[0]), bound, lambda: _fine_step(protocol, drug, route))
                if one is None:
                    continue  # no step gives it within the bound: the order is not made (the engine must agree)
            found[(drug, route, day)] = (one, count)
    return found, continuous


def _substituted(raw_orders: list, entry: dict) -> list:
    """The phase's orders with the substitute's in place of the drug it replaces: a dose on each
    listed day after each dose of the replaced drug."""
    kept, added = [], []
    for raw in raw_orders:
        if raw["drug"] != entry["replaces"]:
            kept.append(raw)
            continue
        days = sorted({d + k for d in _days(raw["days"]["value"], 10**4) for k in entry["doses_after"]["value"]})
        added.append({key: value for key, value in entry.items() if key not in ("replaces", "for", "doses_after", "from_age_months")}
                     | {"days": {"value": days}})
    return kept + added


def _fine_step(protocol: dict, drug: str, route: str) -> Decimal | None:
    """The product's concentration × the smallest measurable volume, in the drug's unit."""
    product = protocol.get("products", {}).get(drug, {}).get(route)
    if product is None or "rounding" not in protocol:
        return None
    return Decimal(product["value"].split()[0]) * Decimal(protocol["rounding"]["smallest_volume"]["value"].split()[0])


def _within(dose: Decimal, step: Decimal, bound: Decimal | None, fine) -> Decimal | None:
    """Half up to the drug's step, or to the fine step (`fine()`, asked for only then) where the
    drug's step moves the dose over the bound; None where neither keeps it within the bound."""
    if bound is None:
        return _half_up(dose, step)
    given = _half_up(dose, step)
    if given > 0 and abs(given - dose) / dose <= bound:
        return given
    candidate = fine()
    if candidate is not None:
        given = _half_up(dose, candidate)
        if given > 0 and abs(given - dose) / dose <= bound:
            return given
    return None


def verify(orders) -> None:
    """Refuse the sheet unless the engine and this calculation agree on every dose."""
    mine, continuous = expected(orders)
    engine = {(a.drug, a.route, a.day): a for a in orders.administrations}
    differences = [f"{k[0]} {k[1]} day {k[2]}: only {'the second calculation' if k in mine else 'the engine'} orders it"
                   for k in sorted(set(mine) ^ set(engine))]
    for key in sorted(set(mine) & set(engine)):
        dose, count = mine[key]
        a = engine[key]
        given = Decimal(repr(a.dose.m_as(unit(a.order.drug.unit))))
        if given != dose or a.times_per_day != count:
            differences.append(f"{key[0]} {key[1]} day {key[2]}: engine {given} × {a.times_per_day}, second calculation {dose.normalize()} × {count}")
    # Each bag delivers the day's dose for its hours.
    (infusion,) = continuous or {None}
    for bag in orders.bags:
        daily = mine[(*infusion, 1)][0]
        should = daily * Decimal(repr(bag.hours)) / 24
        if abs(Decimal(repr(bag.dose.m_as(unit("mcg")))) - should) > Decimal("1e-9"):
            differences.append(f"bag {bag.number}: engine {bag.dose.m_as('mcg')} mcg, second calculation {should.normalize()} mcg")
    if differences:
        raise InputError(
            "second check", "the independent second calculation disagrees with the dose engine: " + "; ".join(differences[:5]),
            "no sheet was made; do not give these doses, and report this with the patient file",
        )
