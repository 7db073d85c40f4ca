"""Doses changed by the infant's results: genotype, liver and kidney, maintenance counts.

The pipeline's doses step (dosing.schedule) asks `decide` once per phase,
before any dose: for each order, the one Adjustment its results call for (a
factor of the dose after the infant fraction, applied before the cap and
rounding, and where the genotype says so a replacement schedule), with the
reason and the results it used. The rules are regimen data
(regimens/<protocol>/adjustments.toml, dosing.regimen.adjustments); the
results are the patient file's [[labs]] and [genotype] (dosing.results).

- Genotype (CPIC, docs/reference.md §12): TPMT and NUDT15 phenotypes change
  mercaptopurine and thioguanine; unknown genotype changes nothing and the
  sheet says so.
- Liver and kidney: bilirubin and creatinine in mg/dL by the label's bands;
  a rule the centre has still to set names the result and marks the sheet.
- Maintenance (a phase with titrated = true): hold below the neutrophil
  floor, else the percentage for the white count; no counts, 100 %.

A result is used when it is the latest taken within the data's window before
the sheet's first day. Two changes to one dose multiply (the data's
[combine]). A dose reduced here is rounded down (dosing.dose.round_within).
"""

from datetime import date
from decimal import Decimal
from fractions import Fraction

import attrs

from dosing import results
from dosing.formatting import number, percent
from dosing.regimen.adjustments import Adjustments, Band, load_adjustments

COUNT_UNIT = "billion_cells_per_liter"  #: 10^9/L (dosing/units.txt)
CPIC = "CPIC, Relling et al. 2019, docs/reference.md §12"
THIOPURINES = ("mercaptopurine", "thioguanine")


@attrs.frozen
class Change:
    """One rule's part of an adjustment: its factor, why, the values and results it rests on."""

    factor: Fraction  #: 0 holds the dose
    reason: str  #: as the working prints it after "× 50 %"
    values: tuple = ()  #: regimen Values (tag and source)
    results: tuple = ()  #: dosing.results.LabResult used


@attrs.frozen
class Adjustment:
    """What the results do to one order's doses: the product of its changes."""

    changes: tuple[Change, ...] = ()
    week_days: tuple[int, ...] | None = None  #: a replacement schedule: given only on these days of each week from day 1
    values: tuple = ()  #: every Value the doses now rest on (including a rule still to be set)
    genotype: object = None  #: dosing.results.Genotype, where a genotype rule is one of the changes

    @property
    def factor(self) -> Fraction:
        product = Fraction(1)
        for change in self.changes:
            product *= change.factor
        return product

    @property
    def held(self) -> bool:
        return self.factor == 0

    @property
    def reduced(self) -> bool:
        """A dose reduced by the results: rounded down, never up (docs/reference.md §12, HOPA)."""
        return self.factor < 1

    @property
    def reason(self) -> str:
        return "; ".join(f"{percent(c.factor)} {c.reason}" for c in self.changes)

    @property
    def results_used(self) -> tuple:
        return tuple(r for c in self.changes for r in c.results)

    def given_on(self, day: int) -> bool:
        return self.week_days is None or (day - 1) % 7 + 1 in self.week_days


@attrs.frozen
class Unset:
    """A rule the centre has still to set (no bands), for a result the patient file gives."""

    subject: str  #: "methotrexate IV"
    result: object  #: LabResult
    level: Decimal  #: mg/dL
    note: str | None


@attrs.frozen
class Titrated:
    """The maintenance titration's decision, with the counts that decided it."""

    subjects: tuple[str, ...]  #: "mercaptopurine PO", ...
    wbc: object | None  #: LabResult
    anc: object | None
    factor: Fraction | None  #: None: no white count, the dose stays at 100 %
    held: bool
    rule: object  #: regimen.adjustments.Titration


@attrs.frozen
class Decided:
    """Every order's adjustment for one sheet, and what the findings say about them."""

    first: date  #: the sheet's first day: results are taken on or before it
    within_days: int
    adjustments: tuple = ()  #: ((order, Adjustment), ...)
    genotype: object = None  #: dosing.results.Genotype
    unknown_genes: tuple[str, ...] = ()  #: genes unknown, where a thiopurine is ordered
    thiopurines: tuple[str, ...] = ()  #: drug names ordered
    titrated: Titrated | None = None
    unset: tuple[Unset, ...] = ()

    def of(self, order) -> Adjustment | None:
        return next((a for o, a in self.adjustments if o is order), None)


def decide(patient, protocol, phase, first: date) -> Decided:
    """The adjustments of `phase`'s orders for `patient`, from results on or before `first` (the sheet's first day)."""
    rules = load_adjustments(protocol)
    if rules is None:
        return Decided(first=first, within_days=0)
    within = rules.within_days.value
    genotype = patient.genotype
    ordered = [o for o in phase.orders if not o.age_bands]  # fixed doses by age are never reduced
    thiopurines = tuple(dict.fromkeys(o.drug.name for o in ordered if o.drug.name in THIOPURINES))
    unknown = tuple(g for g, v in (("TPMT", genotype.tpmt), ("NUDT15", genotype.nudt15)) if v is None) if thiopurines else ()
    titrated = _titration(patient, phase, rules, first) if phase.titrated and rules.titration else None
    found, unset = [], []
    for order in ordered:
        changes, values = [], []
        genotype_change, week_days = _genotype(order, genotype, rules)
        if genotype_change is not None:
            changes.append(genotype_change)
        for rule in rules.organ:
            if rule.drug != order.drug.name or order.route not in rule.routes:
                continue
            result = results.latest(patient, rule.test, first, within)
            if result is None:
                continue
            level = mg_per_dl(result)
            if not rule.levels:
                unset.append(Unset(f"{order.drug.print_name} {order.route}", result, level, rule.note))
                values.append(rule.bands)
                continue
            band = _reached(rule.levels, level)
            if band is not None:
                changes.append(Change(band.factor, _organ_reason(rule, band, result, level), (rule.bands, rules.within_days), (result,)))
        if titrated is not None and (order.drug.name, order.route) in rules.titration.orders and titrated.factor is not None:
            changes.append(_titration_change(titrated, rules))
        if len(changes) > 1:
            values.append(rules.combine)
        if changes or values:
            values = [v for c in changes for v in c.values] + values
            found.append((order, Adjustment(tuple(changes), week_days if genotype_change else None, tuple(dict.fromkeys(values)),
                                            genotype if genotype_change else None)))
    return Decided(first=first, within_days=within, adjustments=tuple(found), genotype=genotype, unknown_genes=unknown,
                   thiopurines=thiopurines, titrated=titrated, unset=tuple(unset))


def mg_per_dl(result) -> Decimal:
    """A bilirubin or creatinine in mg/dL, from mg/dL or µmol/L, to 12 figures (free of float noise)."""
    return Decimal(format(results.mg_dl(result.test, result.value), ".12g"))


def count(result) -> Decimal:
    return Decimal(format(result.value.m_as(COUNT_UNIT), ".12g"))


def _reached(bands, level: Decimal) -> Band | None:
    reached = [band for band in bands if band.reached_by(level)]
    return reached[-1] if reached else None


def _phenotypes(genotype) -> set[str]:
    """The CPIC phenotypes of adjustments.toml the infant has (unknown counts as neither)."""
    tpmt, nudt15 = genotype.tpmt, genotype.nudt15
    found = {name for name, gene in (("TPMT poor", tpmt), ("NUDT15 poor", nudt15)) if gene == "poor"}
    intermediate = [gene for gene in (tpmt, nudt15) if gene == "intermediate"]
    if len(intermediate) == 2:
        found.add("both intermediate")
    elif intermediate:
        found.add("one intermediate")
    return found


def _genotype(order, genotype, rules: Adjustments) -> tuple[Change | None, tuple | None]:
    has = _phenotypes(genotype)
    rule = next((r for r in rules.genotype if r.drug == order.drug.name and r.phenotype in has), None)
    if rule is None:
        return None, None
    reason = f"for {genotype_text(genotype)} ({CPIC}"
    values = [rule.percent]
    if rule.range is not None:
        low, high = rule.limits
        reason += f": range {number(Decimal(low.numerator * 100) / low.denominator)}–{percent(high)}"
        values.append(rule.range)
    if rule.percent.tag == "?":
        reason += f"; the {percent(rule.factor)} is a placeholder the centre sets"
    if rule.week_days is not None:
        reason += f"; given on days {', '.join(map(str, rule.week_days.value))} of each week only"
        values.append(rule.week_days)
    return Change(rule.factor, reason + ")", tuple(values)), rule.week_days.value if rule.week_days else None


def genotype_text(genotype) -> str:
    """'TPMT intermediate, NUDT15 normal': both genes, as the patient file gives them."""
    return f"TPMT {genotype.tpmt or 'unknown'}, NUDT15 {genotype.nudt15 or 'unknown'}"


def _organ_reason(rule, band: Band, result, level: Decimal) -> str:
    reached = f"{'at or above' if band.inclusive else 'above'} {number(band.threshold)} mg/dL"
    shown = _result_text(result)
    converted = "" if lab_unit(result.value) == "mg/dL" else f" = {number(round(level, 2))} mg/dL"
    note = f"; {rule.note}" if rule.note else ""
    return f"for {rule.test} {shown}{converted} on {_when(result)}, {reached} ({rule.bands.source.split(':')[0]}, {rule.bands.tag}{note})"


def _titration(patient, phase, rules: Adjustments, first: date) -> Titrated:
    rule, within = rules.titration, rules.within_days.value
    wbc = results.latest(patient, "wbc", first, within)
    anc = results.latest(patient, "anc", first, within)
    held = anc is not None and count(anc) < rule.floor
    subjects = tuple(f"{o.drug.print_name} {o.route}" for o in phase.orders if (o.drug.name, o.route) in rule.orders)
    if held:
        factor = Fraction(0)
    elif wbc is None:
        factor = None
    else:
        factor = _reached(rule.levels, count(wbc)).factor
    return Titrated(subjects=subjects, wbc=wbc, anc=anc, factor=factor, held=held, rule=rule)


def _titration_change(titrated: Titrated, rules: Adjustments) -> Change:
    rule = rules.titration
    used = tuple(r for r in (titrated.wbc, titrated.anc) if r is not None)
    if titrated.held:
        return Change(Fraction(0), f"(HOLD): {counts_text(titrated)}, below the neutrophil floor of {number(rule.floor)} × 10⁹/L "
                      f"({rule.neutrophil_floor.tag}: {rule.hold.source.split(':')[0]})", (rule.hold, rule.neutrophil_floor, rules.within_days), used)
    placeholder = " (the titration table is a placeholder the centre sets)" if rule.bands.tag == "?" else ""
    return Change(titrated.factor, f"by blood counts: {counts_text(titrated)}{placeholder}",
                  (rule.hold, rule.neutrophil_floor, rule.bands, rules.within_days), used)


def counts_text(titrated: Titrated) -> str:
    """'white cells 1.8 × 10⁹/L on 2 Jun 2026, neutrophils 0.9 × 10⁹/L on 2 Jun 2026'."""
    said = []
    for name, result in (("white cells", titrated.wbc), ("neutrophils", titrated.anc)):
        said.append(f"{name} {number(count(result))} × 10⁹/L on {_when(result)}" if result is not None else f"{name} not measured")
    return ", ".join(said)


def _result_text(result) -> str:
    return f"{number(Decimal(format(result.value.magnitude, '.12g')))} {lab_unit(result.value)}"


def lab_unit(value) -> str:
    """A result's unit as docs/interfaces.md writes it: "10^9/L", "umol/L", "mg/dL"."""
    named = {"billion_cells_per_liter": "10^9/L", "micromole / liter": "umol/L", "milligram / deciliter": "mg/dL"}
    return named.get(str(value.units), f"{value.units:~P}")


def _when(result) -> str:
    shown = f"{result.taken:%d %b %Y}"
    return f"{shown} {result.taken:%H:%M}" if result.time_known else shown
