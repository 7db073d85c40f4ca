"""The phase's orders as the second check reads them from the regimen TOML, with its own reader.

Read from the files, not from the engine's loader: the phase file (or the
phase whose orders it repeats, `orders_from`), protocol.toml's per-drug cap and
rounding, its age tables, and a substitution the pharmacist chose
(substitutions.toml), which replaces the drug's orders by a dose on each listed
day after each of the replaced doses, running the phase on to its last one.
"""

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from . import reader
from .reader import Dose, Unreadable


@dataclass(frozen=True)
class Order:
    drug: str
    route: str
    days: tuple[int, ...]  #: every day the data give it (a dose timed after another: none, it follows that one)
    steps: tuple = ()  #: ((days, Dose), ...): the dose on those days, full dose first, then the taper
    age_table: tuple = ()  #: ((from_months, Decimal), ...): a fixed dose by age instead of steps
    unit: str = ""
    divided: int = 1
    fraction_on: bool = False
    cap: Dose | None = None
    rounding: Decimal | None = None
    small_infant: tuple | None = None  #: (Dose, "kg" or "m2", threshold) where the label rule is in use
    first_dose_at: str | None = None
    series: tuple[int, int] | None = None  #: (every hours, doses)
    after: tuple | None = None  #: ((drug, route), hours)
    split: tuple = ()  #: ((Fraction, over), ...)
    continuous: bool = False

    def dose_on(self, day: int) -> Dose:
        found = next((d for days, d in self.steps if days is None or day in days), None)
        if found is None:
            raise Unreadable(f"{self.drug} {self.route}: no dose in the data for day {day}")
        return found


@dataclass(frozen=True)
class Phase:
    orders: tuple[Order, ...]
    length: int  #: days, after a substitution runs it on
    ends_weeks: int | None  #: "N weeks after diagnosis"
    default_weeks: int | None  #: weeks a sheet of this phase covers when none are asked for (maintenance)
    course_hours: int  #: a continuous infusion's course (blinatumomab: 672 hours, 28 days)


def read_phase(directory: Path, name: str, protocol: dict, substitute: str | None) -> Phase:
    head_file = reader.toml(directory / f"{name}.toml")
    head = head_file["phase"]
    length = reader.value(head, "length_days")
    if type(length) is not int or length < 1:
        raise Unreadable(f"{name}: length_days {length!r} is not a whole number of days")
    source = head.get("orders_from", name)
    raws = head_file.get("order") if source == name else reader.toml(directory / f"{source}.toml").get("order")
    orders = [_order(raw, protocol, length) for raw in raws or []]
    if substitute is not None:
        entry = reader.toml(directory / "substitutions.toml")[substitute]
        orders, length = _substituted(orders, raws, entry, protocol, length)
    ends = reader.weeks_after_diagnosis(reader.value(head, "ends")) if "ends" in head else None
    default = reader.setting(head, "default_weeks")
    if default is None and name == "maintenance":
        default = 8  # a regimen folder from before [phase] default_weeks: the 8 weeks the sheets have always covered
    # A folder from before [phase] course_hours: the 672 hours (28 days) of docs/reference.md §9.
    return Phase(orders=tuple(orders), length=length, ends_weeks=ends, default_weeks=default,
                 course_hours=reader.setting(head, "course_hours", default=672))


def _substituted(orders, raws, entry: dict, protocol: dict, length: int):
    """The orders with the substitute's in place of the drug it replaces, and the phase's length run on to its last dose."""
    after = reader.value(entry, "doses_after")
    kept, added = [], []
    for order in orders:
        if order.drug != entry["replaces"]:
            kept.append(order)
            continue
        days = sorted({day + k for day in order.days for k in after})
        raw = {key: value for key, value in entry.items() if key not in ("replaces", "for", "doses_after", "from_age_months")}
        added.append(_order(raw | {"days": {"value": days}}, protocol, max(length, days[-1])))
    if not added:
        raise Unreadable(f"the phase orders no {entry['replaces']} for the substitution to replace")
    return kept + added, max([length] + [o.days[-1] for o in added])


def _order(raw: dict, protocol: dict, length: int) -> Order:
    drug, route = raw["drug"], raw["route"]
    dose = raw["dose"]
    fields = dict(drug=drug, route=route, continuous=raw.get("continuous") is True)
    if "after" in raw:
        after = reader.value(raw, "after")
        fields["after"] = ((after["drug"], after["route"]), tuple(after["hours"]))
        fields["days"] = ()
    else:
        fields["days"] = tuple(reader.days(reader.value(raw, "days"), length))
    if "first_dose_at" in raw:
        fields["first_dose_at"] = raw["first_dose_at"]
    if "schedule" in raw:
        fields["series"] = reader.series(reader.value(raw, "schedule"))
    if "age_table" in dose:
        bands = reader.value(protocol["age_tables"][dose["age_table"]], "dose")
        table = tuple((band["from_months"], _fixed(band["dose"])) for band in bands)
        if table[0][0] != 0:
            raise Unreadable(f"age table {dose['age_table']} does not start at 0 months")
        cap = reader.dose(reader.value(raw, "cap")) if "cap" in raw else None  # a drug's own cap is for computed doses only
        return Order(**fields, age_table=table, unit=reader.dose(bands[0]["dose"]).unit, cap=cap)
    basis = reader.dose(reader.value(raw, "dose"))
    steps = [(None if "after" in raw else frozenset(fields["days"]), basis)]
    for stage in reader.value(raw, "taper") if "taper" in raw else []:
        days = reader.days(stage["days"], length)
        steps.append((frozenset(days), reader.dose(stage["dose"])))
        fields["days"] = tuple(sorted(set(fields["days"]) | set(days)))
    defaults = protocol.get("drugs", {}).get(drug, {})
    cap = raw.get("cap", defaults.get("cap"))
    rounding = raw.get("rounding", defaults.get("rounding"))
    if rounding is None:
        raise Unreadable(f"{drug} {route}: no rounding step in the order or in protocol.toml")
    label = raw.get("small_infant")
    if label is not None and label.get("use") is True:
        kind = "kg" if "when_weight_at_most" in label else "m2"
        threshold = reader.amount(label["when_weight_at_most" if kind == "kg" else "when_bsa_below"], kind)
        fields["small_infant"] = (reader.dose(label["value"]), kind, threshold)
    return Order(
        **fields, steps=tuple(steps), unit=basis.unit, divided=dose.get("divided", 1),
        fraction_on=reader.value(raw, "infant_fraction") is True,
        cap=reader.dose(reader.unwrap(cap, "cap")) if cap is not None else None,
        rounding=_fixed(reader.unwrap(rounding, "rounding")),
        split=tuple((reader.fraction(part["fraction"]), part["over"]) for part in reader.value(raw, "split")) if "split" in raw else (),
    )


def _fixed(text) -> Decimal:
    """A flat amount for one dose ('0.01 mg', '6 mg'): neither per m2, per kg nor per day."""
    read = reader.dose(text)
    if read.per or read.per_day:
        raise Unreadable(f"{text!r} is not a flat amount")
    return read.amount


def fraction_bands(protocol: dict) -> list[tuple[int, Fraction]]:
    return [(band["below_months"], reader.fraction(band["factor"])) for band in reader.value(protocol["infant_fraction"], "bands")]


def product(protocol: dict, drug: str, route: str, unit: str) -> tuple[Decimal, str] | None:
    """(concentration in unit/mL, form) of what the drug is drawn up from by the route, where protocol.toml names one."""
    entry = protocol.get("products", {}).get(drug, {}).get(route)
    if entry is None:
        return None
    return reader.amount(reader.unwrap(entry, f"products.{drug}.{route}"), f"{unit}/mL"), entry.get("form", "")
