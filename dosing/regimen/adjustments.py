"""adjustments.toml: the doses results change (genotype, liver and kidney, maintenance counts), loaded and checked.

regimens/SCHEMA.md describes the file. Every percentage and threshold is a
tagged Value; a malformed entry is refused with the file, the line and the
field (RegimenError). A protocol folder without the file changes no dose.
"""

import re
from decimal import Decimal
from fractions import Fraction
from functools import cache
from pathlib import Path

import attrs

from dosing.regimen.model import ROUTES, Protocol, Value
from dosing.regimen.source import Source, known_keys, table, tagged, text

PHENOTYPES = ("TPMT poor", "NUDT15 poor", "both intermediate", "one intermediate")
ORGAN_TESTS = ("bilirubin", "creatinine")
_PERCENT = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*%\s*\Z")
_LEVEL = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(mg/dL|10\^9/L)\s*\Z")


@attrs.frozen
class GenotypeRule:
    """A thiopurine dose for one phenotype (CPIC)."""

    drug: str
    phenotype: str  #: one of PHENOTYPES
    percent: Value  #: as written, "50 %" (the values-not-verified table prints it)
    factor: Fraction  #: the percent read: 1/2
    range: Value | None = None  #: "30 % to 80 %": the CPIC range `percent` is chosen from
    limits: tuple = ()  #: the range read: (3/10, 4/5)
    week_days: Value | None = None  #: value: tuple of days 1-7 of each week: a replacement schedule


@attrs.frozen
class Band:
    threshold: Decimal  #: in the rule's unit (mg/dL, 10^9/L)
    inclusive: bool  #: `from` (at or above) rather than `above`
    factor: Fraction  #: of the dose

    def reached_by(self, level: Decimal) -> bool:
        return level >= self.threshold if self.inclusive else level > self.threshold


@attrs.frozen
class OrganRule:
    """A label's dose by bilirubin or creatinine (mg/dL)."""

    drug: str
    routes: tuple[str, ...]
    test: str  #: "bilirubin" or "creatinine"
    bands: Value  #: as printed: "from 1.2 mg/dL: 75 %; above 3 mg/dL: 50 %" ("none set" when empty)
    levels: tuple[Band, ...] = ()  #: the bands read, rising; empty: the centre has still to set the rule
    note: str | None = None


@attrs.frozen
class Titration:
    """Maintenance doses by blood counts: hold below the neutrophil floor, else a percentage by white cells."""

    orders: tuple[tuple[str, str], ...]  #: (drug, route)
    hold: Value
    neutrophil_floor: Value  #: as written, "0.5 10^9/L"
    floor: Decimal  #: the floor read, 10^9/L
    bands: Value  #: as printed: "from 0 10^9/L: 50 %; ..."
    levels: tuple[Band, ...] = ()  #: by white cells, rising from 0


@attrs.frozen
class Adjustments:
    within_days: Value  #: value: int
    combine: Value
    genotype: tuple[GenotypeRule, ...] = ()
    organ: tuple[OrganRule, ...] = ()
    titration: Titration | None = None
    path: Path | None = None


def load_adjustments(protocol: Protocol) -> Adjustments | None:
    """The protocol's adjustments.toml, or None where the folder has none."""
    path = protocol.directory / "adjustments.toml"
    return _load(path, frozenset(protocol.drugs)) if path.is_file() else None


@cache
def _load(path: Path, drugs: frozenset) -> Adjustments:
    source = Source(path)
    data = source.data
    known_keys(source, data, ("results", "combine", "genotype", "organ", "titration"), None, "the file")
    line = source.header_line("[results]")
    results = table(source, data, "results", line)
    known_keys(source, results, ("within_days",), line, "[results]")
    within = tagged(source, results, "within_days", line, "days a result stays usable")
    if type(within.value) is not int or not 0 <= within.value <= 60:
        raise source.error(source.key_line("within_days", line), "within_days is a whole number of days from 0 to 60, e.g. 7")
    line = source.header_line("[combine]")
    combine = tagged(source, table(source, data, "combine", line), "rule", line, "two dose changes combined")
    if combine.value != "product":
        raise source.error(source.key_line("rule", line), 'rule is "product": two changes to one dose multiply')
    genotype = tuple(_genotype(source, raw, i, drugs) for i, raw in enumerate(data.get("genotype", [])))
    organ = tuple(_organ(source, raw, i, drugs) for i, raw in enumerate(data.get("organ", [])))
    titration = _titration(source, data["titration"], drugs) if "titration" in data else None
    return Adjustments(within_days=within, combine=combine, genotype=genotype, organ=organ, titration=titration, path=path)


def _genotype(source, raw, index: int, drugs) -> GenotypeRule:
    line = source.header_line("[[genotype]]", index)
    known_keys(source, raw, ("drug", "phenotype", "percent", "range", "week_days"), line, "[[genotype]]")
    drug = _drug(source, raw, line, drugs)
    phenotype = text(source, raw, "phenotype", line)
    if phenotype not in PHENOTYPES:
        raise source.error(source.key_line("phenotype", line), f"phenotype is one of {', '.join(PHENOTYPES)}")
    percent = tagged(source, raw, "percent", line, f"{drug} dose, {phenotype}")
    factor = _percent(source, percent.value, source.key_line("percent", line))
    found = GenotypeRule(drug=drug, phenotype=phenotype, percent=percent, factor=factor)
    if "range" in raw:
        span = tagged(source, raw, "range", line, f"{drug} CPIC range, {phenotype}")
        at = source.key_line("range", line)
        if not isinstance(span.value, list) or len(span.value) != 2:
            raise source.error(at, 'range is two percentages, e.g. ["30 %", "80 %"]')
        low, high = (_percent(source, v, at) for v in span.value)
        if not low <= factor <= high:
            raise source.error(source.key_line("percent", line), f"percent {percent.value} is outside its range {span.value}")
        found = attrs.evolve(found, range=attrs.evolve(span, value=" to ".join(span.value)), limits=(low, high))
    if "week_days" in raw:
        days = tagged(source, raw, "week_days", line, f"{drug} days of each week, {phenotype}")
        if not isinstance(days.value, list) or not days.value or any(type(d) is not int or not 1 <= d <= 7 for d in days.value) \
                or days.value != sorted(set(days.value)):
            raise source.error(source.key_line("week_days", line), "week_days is a rising list of days 1 to 7 of each week, e.g. [1, 3, 5]")
        found = attrs.evolve(found, week_days=attrs.evolve(days, value=tuple(days.value)))
    return found


def _organ(source, raw, index: int, drugs) -> OrganRule:
    line = source.header_line("[[organ]]", index)
    known_keys(source, raw, ("drug", "routes", "test", "bands", "note"), line, "[[organ]]")
    drug = _drug(source, raw, line, drugs)
    routes = raw.get("routes")
    if not isinstance(routes, list) or not routes or any(r not in ROUTES or r == "INTRATHECAL" for r in routes):
        raise source.error(source.key_line("routes", line), f"routes is a list of {', '.join(r for r in ROUTES if r != 'INTRATHECAL')}")
    test = text(source, raw, "test", line)
    if test not in ORGAN_TESTS:
        raise source.error(source.key_line("test", line), f"test is one of {', '.join(ORGAN_TESTS)}")
    bands, levels = _bands(source, raw, line, "mg/dL", ("from", "above"), f"{drug} by {test}")
    return OrganRule(drug=drug, routes=tuple(routes), test=test, bands=bands, levels=levels, note=raw.get("note"))


def _titration(source, raw, drugs) -> Titration:
    line = source.header_line("[titration]")
    known_keys(source, raw, ("orders", "hold", "neutrophil_floor", "bands"), line, "[titration]")
    orders = []
    for written in raw.get("orders") or [None]:
        drug, _, route = written.rpartition(" ") if isinstance(written, str) else ("", "", "")
        if drug not in drugs or route not in ROUTES:
            raise source.error(source.key_line("orders", line), 'orders is a list of "drug ROUTE", e.g. ["mercaptopurine PO"]')
        orders.append((drug, route))
    hold = tagged(source, raw, "hold", line, "titration hold rule")
    floor = tagged(source, raw, "neutrophil_floor", line, "neutrophil floor")
    level = _level(source, floor.value, source.key_line("neutrophil_floor", line), "10^9/L")
    bands, levels = _bands(source, raw, line, "10^9/L", ("from",), "maintenance titration by white cells")
    if not levels or levels[0].threshold != 0:
        raise source.error(source.key_line("bands", line), 'the titration bands start from 0, e.g. { from = "0 10^9/L", percent = "50 %" }')
    return Titration(orders=tuple(orders), hold=hold, neutrophil_floor=floor, floor=level, bands=bands, levels=levels)


def _drug(source, raw, line, drugs) -> str:
    drug = text(source, raw, "drug", line)
    if drug not in drugs:
        raise source.error(source.key_line("drug", line), f"unknown drug {drug!r}")
    return drug


def _bands(source, raw, line, unit: str, kinds, what: str) -> tuple[Value, tuple[Band, ...]]:
    """The bands as printed (a Value whose value is text) and as read."""
    value = tagged(source, raw, "bands", line, what)
    at = source.key_line("bands", line)
    example = " or ".join(f'{{ {kind} = "3 {unit}", percent = "50 %" }}' for kind in kinds)
    if not isinstance(value.value, list):
        raise source.error(at, f"bands is a list of {example}")
    bands = []
    for band in value.value:
        kind = next((k for k in kinds if isinstance(band, dict) and k in band), None)
        if kind is None or set(band) != {kind, "percent"}:
            raise source.error(at, f"each band is {example}")
        threshold = _level(source, band[kind], at, unit)
        if bands and threshold < bands[-1].threshold:
            raise source.error(at, "bands rise: each threshold at or above the one before")
        bands.append(Band(threshold=threshold, inclusive=kind == "from", factor=_percent(source, band["percent"], at)))
    shown = "; ".join(f"{next(k for k in kinds if k in band)} {band[next(k for k in kinds if k in band)]}: {band['percent']}"
                      for band in value.value)
    return attrs.evolve(value, value=shown or "none set"), tuple(bands)


def _percent(source, written, at) -> Fraction:
    match = _PERCENT.match(written) if isinstance(written, str) else None
    if not match or not 0 < Decimal(match.group(1)) <= 200:
        raise source.error(at, f"{written!r} is not a percentage above 0 and at most 200, e.g. \"50 %\"")
    return Fraction(Decimal(match.group(1))) / 100


def _level(source, written, at, unit: str) -> Decimal:
    match = _LEVEL.match(written) if isinstance(written, str) else None
    if not match or match.group(2) != unit:
        raise source.error(at, f"{written!r} is not a level in {unit}, e.g. \"3 {unit}\"")
    return Decimal(match.group(1))
