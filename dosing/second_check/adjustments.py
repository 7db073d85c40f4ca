"""The doses results change, decided again from the files alone: genotype, liver and kidney, maintenance counts.

Read here, not taken from the engine: the patient file's [[labs]] and
[genotype] (read by this package's own plain rules: a number, a unit of the
test's, a date and an optional HH:MM) and regimens/<protocol>/adjustments.toml
(regimens/SCHEMA.md). For each (drug, route) the factor of the dose after the
infant fraction (0: held), and where the genotype replaces the schedule, the
days of each week it is given on. A reduced dose is rounded down
(docs/reference.md §12, HOPA), by `within_down`.

The latest result taken within the data's window before the sheet's first
day is the one used; two changes multiply (the data's [combine] rule).
"""

import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_FLOOR, Decimal
from fractions import Fraction
from pathlib import Path

from . import reader
from .reader import Unreadable

# µmol/L per mg/dL, by molar mass (chemistry, not protocol data): bilirubin C33H36N4O6 584.66 g/mol -> 17.1;
# creatinine C4H7N3O 113.12 g/mol -> 88.42.
UMOL_PER_MG_DL = {"bilirubin": Decimal("17.1"), "creatinine": Decimal("88.42")}
_COUNT_UNITS = {"10^9/l", "x10^9/l", "×10^9/l", "10⁹/l", "x10⁹/l", "×10⁹/l"}
_UMOL_UNITS = {"umol/l", "µmol/l", "μmol/l"}
# Compiled on first use (re keeps them), not at import: only a patient with results or a genotype reads them.
_RESULT = r"(?s)\s*\+?([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*(.*?)\s*\Z"
_PERCENT = r"\s*([0-9]+(?:\.[0-9]+)?)\s*%\s*\Z"
_LEVEL = r"\s*([0-9]+(?:\.[0-9]+)?)\s*(mg/dL|10\^9/L)\s*\Z"


@dataclass(frozen=True)
class Adjusted:
    factor: Fraction  #: of the dose after the infant fraction; 0 holds it
    week_days: tuple[int, ...] | None = None  #: given only on these days of each week from day 1

    def given_on(self, day: int) -> bool:
        return self.factor != 0 and (self.week_days is None or (day - 1) % 7 + 1 in self.week_days)


@dataclass(frozen=True)
class _Result:
    test: str
    level: Decimal  #: mg/dL for bilirubin and creatinine, 10^9/L for counts
    taken: datetime
    entry: int


def decide(patient_toml: str, directory: Path, phase_name: str, first: date, orders) -> dict:
    """(drug, route) -> Adjusted, for the orders `orders` (the second check's own) of the phase, from results on or before `first`."""
    path = Path(directory) / "adjustments.toml"
    if not path.is_file():
        return {}
    rules = tomllib.loads(path.read_text(encoding="utf-8"))
    patient = tomllib.loads(patient_toml)
    within = reader.value(rules["results"], "within_days")
    labs = _labs(patient.get("labs", []), first, within)
    genotype = patient.get("genotype", {})
    titrated = reader.toml(Path(directory) / f"{phase_name}.toml")["phase"].get("titrated") is True
    titration = rules.get("titration") if titrated else None
    found = {}
    for order in orders:
        if order.age_table:  # a fixed dose by age is never reduced
            continue
        factor, week_days = Fraction(1), None
        rule = _genotype_rule(rules.get("genotype", []), order.drug, genotype)
        if rule is not None:
            factor *= _percent(reader.unwrap(rule["percent"], "percent"))
            week_days = tuple(reader.unwrap(rule["week_days"], "week_days")) if "week_days" in rule else None
        for organ in rules.get("organ", []):
            if organ["drug"] == order.drug and order.route in organ["routes"] and organ["test"] in labs:
                band = _reached(reader.unwrap(organ["bands"], "bands"), labs[organ["test"]].level, "mg/dL")
                factor *= band if band is not None else 1
        if titration is not None and f"{order.drug} {order.route}" in titration["orders"]:
            floor = _level(reader.unwrap(titration["neutrophil_floor"], "neutrophil_floor"), "10^9/L")
            if "anc" in labs and labs["anc"].level < floor:
                factor = Fraction(0)
            elif "wbc" in labs:
                factor *= _reached(reader.unwrap(titration["bands"], "bands"), labs["wbc"].level, "10^9/L") or Fraction(1)
        if factor != 1 or week_days is not None:
            found[(order.drug, order.route)] = Adjusted(factor, week_days)
    return found


def within_down(dose: Decimal, step: Decimal, bound: Decimal | None) -> Decimal | None:
    """Down to `step`; None where that moves the dose more than `bound` (HOPA: 10 %) of itself, or to nothing."""
    given = (dose / step).quantize(Decimal(1), rounding=ROUND_FLOOR) * step
    if bound is None:
        return given
    return given if given > 0 and (dose - given) / dose <= bound else None


def _labs(entries: list, first: date, within: int) -> dict:
    """test -> the latest result taken from `within` days before `first` to `first` (later entry on a tie)."""
    latest: dict[str, _Result] = {}
    for number, entry in enumerate(entries, start=1):
        test = entry.get("test")
        if test not in ("anc", "wbc", "bilirubin", "creatinine") or "date" not in entry:
            continue
        when = datetime.combine(reader.a_date(entry["date"], f"labs[{number}].date"), _clock(entry.get("time"), number))
        if not first - timedelta(days=within) <= when.date() <= first:
            continue
        result = _Result(test, _value(entry.get("value"), test, number), when, number)
        if test not in latest or (when, number) > (latest[test].taken, latest[test].entry):
            latest[test] = result
    return latest


def _value(text, test: str, number: int) -> Decimal:
    match = re.match(_RESULT, text) if isinstance(text, str) else None
    unit = re.sub(r"\s+", "", match.group(2)).lower() if match else ""
    if match and test in ("anc", "wbc") and unit in _COUNT_UNITS:
        return Decimal(match.group(1))
    if match and test in UMOL_PER_MG_DL and unit in _UMOL_UNITS:
        return Decimal(match.group(1)) / UMOL_PER_MG_DL[test]
    if match and test in UMOL_PER_MG_DL and unit == "mg/dl":
        return Decimal(match.group(1))
    raise Unreadable(f"labs[{number}].value {text!r} is not a {test} result in a unit the patient file allows")


def _clock(value, number: int) -> time:
    if value is None:
        return time(0, 0)
    if isinstance(value, time):
        return value
    if isinstance(value, str) and re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", value):
        return time(int(value[:2]), int(value[3:]))
    raise Unreadable(f"labs[{number}].time {value!r} is not HH:MM")


def _genotype_rule(rules: list, drug: str, genotype: dict):
    """The first entry for `drug` whose phenotype the infant has (unknown genes count as neither)."""
    tpmt, nudt15 = genotype.get("tpmt"), genotype.get("nudt15")
    has = {name for name, gene in (("TPMT poor", tpmt), ("NUDT15 poor", nudt15)) if gene == "poor"}
    intermediate = [tpmt, nudt15].count("intermediate")
    if intermediate:
        has.add("both intermediate" if intermediate == 2 else "one intermediate")
    return next((rule for rule in rules if rule["drug"] == drug and rule["phenotype"] in has), None)


def _reached(bands: list, level: Decimal, unit: str) -> Fraction | None:
    """The percent of the highest band `level` reaches: { from } at or above, { above } strictly above."""
    found = None
    for band in bands:
        if "from" in band and level >= _level(band["from"], unit) or "above" in band and level > _level(band["above"], unit):
            found = _percent(band["percent"])
    return found


def _percent(text) -> Fraction:
    match = re.match(_PERCENT, text) if isinstance(text, str) else None
    if not match:
        raise Unreadable(f"{text!r} is not a percentage")
    return Fraction(Decimal(match.group(1))) / 100


def _level(text, unit: str) -> Decimal:
    match = re.match(_LEVEL, text) if isinstance(text, str) else None
    if not match or match.group(2) != unit:
        raise Unreadable(f"{text!r} is not a level in {unit}")
    return Decimal(match.group(1))
