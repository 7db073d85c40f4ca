"""The regimen as the program holds it: attrs classes, one per idea of the protocol.

Every clinical value is a `Value`: the number or text, what it is, its
provenance tag and its source. The classes hold what the loader (load.py,
phases.py, orders.py) has read and checked; nothing here reads a file.
"""

from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path

import attrs

# Provenance tags, strongest first (docs/reference.md).
TAGS = ("S", "P", "A", "?")
TAG_MEANING = {
    "S": "stated in the seed registry text",
    "P": "published for the named source protocol or label",
    "A": "assumed from the protocol family; not confirmed for ALL-Baby-2021",
    "?": "placeholder: nothing published was found",
}
ROUTES = ("IV", "PO", "IM", "SC", "INTRATHECAL")
# docs/safety.md: only these may ever go INTRATHECAL, whatever a data file says.
INTRATHECAL_CLASSES = ("methotrexate", "cytarabine", "corticosteroid")
BSA_FORMULAS = ("mosteller", "haycock", "dubois", "gehan_george", "boyd")
HSCT = "HSCT"  #: a referral on the pathway, not a phase dosed here


def weakest(tags) -> str:
    """The least certain of some tags: a dose is only as sure as its weakest input."""
    return max(tags, key=TAGS.index, default="S")


@attrs.frozen(eq=False)
class Value:
    """One value of the protocol with where it comes from (compared by identity:
    the same number from two places in the data is two values)."""

    what: str  #: what it is, as the sheet's banner names it ("dose", "days")
    value: object
    tag: str
    source: str


@attrs.frozen
class Drug:
    name: str
    print_name: str
    drug_class: str
    routes: tuple[str, ...]
    unit: str
    label: str | None = None
    names: tuple[str, ...] = ()  #: other names an allergy may use: common names, brands, the class as written
    provenance: Value | None = None  #: tag and source of the entry's names, class, routes, unit and label


@attrs.frozen
class Step:
    """A dose given on some days of the phase: the full dose, or a taper step."""

    days: tuple[int, ...]
    basis: object  #: pint quantity: mg/m², mg/m²/day, mg/kg or mg
    text: str  #: as written in the file, for the sheet
    value: Value


@attrs.frozen
class AgeBand:
    from_months: int
    dose: object  #: pint quantity, a fixed amount
    text: str


@attrs.frozen
class SmallInfantRule:
    """A product label's weight-based dose for very small infants (docs/reference.md §1)."""

    basis: object
    text: str
    weight_at_most: object | None
    bsa_below: object | None
    use: bool
    value: Value

    def applies(self, weight, bsa) -> bool:
        if not self.use:
            return False
        if self.weight_at_most is not None:
            return weight <= self.weight_at_most
        return bsa < self.bsa_below


@attrs.frozen
class Timing:
    """When in the day the doses fall, where the protocol ties them to a clock.

    A series ("every 12 hours, 5 doses") starts on the order's first day at
    `first_dose_at`; a dose timed from another order ("42, 48, 54 hours after
    the start of methotrexate") follows each dose of that order. `first_dose_at`
    is a ward time ("08:00") or "infusion start", the time the pharmacist gives
    on the command line.
    """

    first_dose_at: str | None = None
    every_hours: int | None = None
    doses: int | None = None
    after: tuple[str, str] | None = None  #: (drug, route) of the order this one follows
    hours: tuple[float, ...] = ()  #: hours after each dose of `after`
    value: Value | None = None  #: the protocol's statement of the timing, tagged


@attrs.frozen
class Order:
    drug: Drug
    route: str
    days: tuple[int, ...]  #: every day of the phase the order is given
    days_value: Value
    steps: tuple[Step, ...] = ()  #: computed doses, full dose first then taper
    age_bands: tuple[AgeBand, ...] = ()  #: fixed doses by age instead of steps
    age_value: Value | None = None
    divided: int = 1
    infant_fraction: Value | None = None
    cap: Value | None = None
    rounding: Value | None = None
    duration: Value | None = None
    window: Value | None = None
    small_infant: SmallInfantRule | None = None
    route_note: str | None = None
    timing: Timing | None = None
    split: Value | None = None  #: parts of one infusion: ((fraction, over), ...)
    weekly: bool = False  #: "once weekly on <weekday>"; two doses less than 7 days apart are refused
    continuous: bool = False  #: a continuous infusion: the dose is the day's amount
    note: str | None = None
    line: int | None = None

    def step_on(self, day: int) -> Step | None:
        return next((s for s in self.steps if day in s.days), None)

    def band_at(self, age_months: int) -> AgeBand:
        return [band for band in self.age_bands if band.from_months <= age_months][-1]


@attrs.frozen
class Phase:
    name: str
    title: str
    length_days: Value  #: the longest the phase can run; see `ends`
    orders: tuple[Order, ...]
    tests: Value | None
    path: Path
    ends: Value | None = None  #: "104 weeks after diagnosis": the phase stops then
    next_after_days: Value | None = None  #: the next phase starts this many days after day 1, at the earliest
    titrated: bool = False  #: doses are titrated to counts (maintenance)
    start_criteria: Value | None = None  #: what must be true before day 1 (printed on the calendar)
    default_weeks: Value | None = None  #: value: int, the weeks a sheet covers when the pharmacist gives none
    course_hours: Value | None = None  #: value: int, the hours of a continuous infusion's course (blinatumomab 672)

    def last_date(self, diagnosis: date) -> date | None:
        """The last day of a phase that ends "N weeks after diagnosis" (the day before that date)."""
        if self.ends is None:
            return None
        weeks = int(self.ends.value.split()[0])
        return diagnosis + timedelta(weeks=weeks) - timedelta(days=1)


@attrs.frozen
class Product:
    """The product a drug is drawn up from by one route: its concentration (docs/reference.md §12)."""

    form: str  #: as the pharmacy knows it: "methotrexate oral solution 2 mg/mL"
    concentration: Value  #: value: pint, drug unit per mL


@attrs.frozen
class Fluid:
    """Maintenance fluid by Holliday–Segar and the share of it a day's infusions may take before a warning."""

    maintenance: Value  #: value: ((up_to_kg, mL/kg/day), ...), rising
    warn_above: Value  #: value: a fraction of the maintenance volume

    def maintenance_per_day(self, weight):
        """mL/day for a weight (pint mass): each band's rate for the kilograms within it."""
        from dosing.units import Q, unit

        kg, below, total = weight.m_as(unit("kg")), 0.0, 0.0
        for up_to, rate in self.maintenance.value:
            if kg <= below:
                break
            total += (min(kg, up_to) - below) * rate
            below = up_to
        return Q(total, "mL/day")


@attrs.frozen
class Pathway:
    """Where the day-36 and later results lead (docs/reference.md §2)."""

    mrd_high_risk_from: Value  #: value: float, a percent; SR with a day-36 MRD at or above it moves to high risk
    consolidation: Value  #: value: phase names after induction for SR and IR MRD-negative
    blocks: Value  #: value: phase names after HR1 for IR whose MRD after HR1 is negative
    high_risk: Value  #: value: phase names (and the HSCT referral) for high risk


@attrs.frozen
class Anthracyclines:
    """Cumulative anthracycline limits and doxorubicin equivalents (docs/reference.md §10)."""

    doxorubicin_equivalent: Value  #: value: {drug: Fraction}, mg of doxorubicin per mg of the drug
    young_limit: Value  #: value: Decimal mg/kg, the cumulative label limit below `young_below_months`
    young_below_months: int
    limit: Value  #: value: Decimal mg/m² in doxorubicin equivalents, past which a sheet warns


@attrs.frozen
class Protocol:
    name: str
    registry: str
    version: str
    phases: tuple[str, ...]
    bsa_formula: Value
    infant_fraction: Value  #: value: ((below_months, Fraction), ...)
    verification: dict | None
    directory: Path
    drugs: dict  #: name -> Drug
    drug_settings: dict  #: name -> {"cap": Value, "rounding": Value}
    age_tables: dict  #: name -> (tuple[AgeBand], Value)
    bsa_rounding: Value | None = None  #: value: pint m², the step the BSA is rounded to before any dose
    max_rounding_change: Value | None = None  #: value: a fraction (0.1): rounding never moves a dose further
    smallest_volume: Value | None = None  #: value: pint mL, the smallest volume the pharmacy measures
    products: dict = attrs.Factory(dict)  #: (drug, route) -> Product, what a dose is drawn up from
    fluid: "Fluid | None" = None
    infusion_volumes: dict = attrs.Factory(dict)  #: drug -> Value: pint mL (a bag) or mg/mL (dose ÷ it)
    rounding_warning: Value | None = None  #: value: Fraction; a rounded dose further than this from the calculated one is a warning
    weight_change: Value | None = None  #: value: Fraction; a weight this far from the last sheet's is a warning
    pathway: "Pathway | None" = None
    anthracyclines: "Anthracyclines | None" = None
    start_criteria: dict = attrs.Factory(dict)  #: phase name -> regimen.criteria.StartCriteria (results.toml)

    @property
    def verified(self) -> bool:
        return self.verification is not None

    def factor_at(self, age_months: int) -> Fraction:
        for below, factor in self.infant_fraction.value:
            if age_months < below:
                return factor
        return Fraction(1)


@attrs.frozen
class Substitution:
    """A drug given instead of another, chosen by the pharmacist (substitutions.toml)."""

    name: str
    replaces: str  #: the drug whose orders it replaces
    answers: str  #: what it is for, as the sheet prints it
    orders: tuple[Order, ...]  #: the orders that take the replaced ones' place
    from_age_months: Value
