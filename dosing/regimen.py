"""Regimen data: the protocol as TOML files in regimens/, loaded and validated.

The code holds no dose. Everything a sheet prints comes from these files,
each value with its provenance tag and source, and a file that is malformed
is refused with its name and the line of trouble (RegimenError), never
half-loaded.
"""

import re
import tomllib
from datetime import date, timedelta
from fractions import Fraction
from functools import cache
from pathlib import Path

import attrs

from dosing.errors import RegimenError
from dosing.units import basis_kind, drug_unit, is_per_day, parse_dose, parse_size

# Provenance tags, strongest first (reference.md).
TAGS = ("S", "P", "A", "?")
TAG_MEANING = {
    "S": "stated in the seed registry text",
    "P": "published for the named source protocol or label",
    "A": "assumed from the protocol family; not confirmed for ALL-Baby-2021",
    "?": "placeholder: nothing published was found",
}
ROUTES = ("IV", "PO", "IM", "SC", "INTRATHECAL")
# safety.md: only these may ever go INTRATHECAL, whatever a data file says.
INTRATHECAL_CLASSES = ("methotrexate", "cytarabine", "corticosteroid")
BSA_FORMULAS = ("mosteller", "haycock", "dubois", "gehan_george", "boyd")


def weakest(tags) -> str:
    """The least certain of some tags: a dose is only as sure as its weakest input."""
    return max(tags, key=TAGS.index, default="S")


def default_directory() -> Path:
    """regimens/ of this checkout, or the copy installed inside the package."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "regimens", here.parent / "regimens"):
        if (candidate / "drugs.toml").is_file():
            return candidate
    raise RegimenError(here.parent / "regimens", None, "the regimen data folder is missing from this installation")


# -- the model ---------------------------------------------------------------


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
    """A product label's weight-based dose for very small infants (reference.md §1)."""

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

    def last_date(self, diagnosis: date) -> date | None:
        """The last day of a phase that ends "N weeks after diagnosis" (the day before that date)."""
        if self.ends is None:
            return None
        weeks = int(self.ends.value.split()[0])
        return diagnosis + timedelta(weeks=weeks) - timedelta(days=1)


@attrs.frozen
class Product:
    """The product a drug is drawn up from by one route: its concentration (reference.md §12)."""

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

    @property
    def verified(self) -> bool:
        return self.verification is not None

    def factor_at(self, age_months: int) -> Fraction:
        for below, factor in self.infant_fraction.value:
            if age_months < below:
                return factor
        return Fraction(1)


# -- loading ------------------------------------------------------------------


class Source:
    """A data file's text, to point errors at the line they concern."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise RegimenError(path, None, "file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise RegimenError(path, None, f"cannot be read ({exc})") from None
        self.lines = self.text.splitlines()
        try:
            self.data = tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as exc:
            match = re.search(r"line (\d+)", str(exc))
            raise RegimenError(path, int(match.group(1)) if match else None, f"not valid TOML ({exc})") from None

    def header_line(self, header: str, index: int = 0) -> int | None:
        """Line of the index-th occurrence of a table header such as '[[order]]'."""
        pattern = re.compile(r"^\s*" + re.escape(header) + r"\s*(#.*)?$")
        found = [n for n, line in enumerate(self.lines, start=1) if pattern.match(line)]
        return found[index] if index < len(found) else None

    def key_line(self, key: str, after: int | None) -> int | None:
        """Line of `key = ...` at or after a header line, before the next header."""
        pattern = re.compile(r"^\s*" + re.escape(key) + r"\s*=")
        for n in range((after or 1), len(self.lines) + 1):
            line = self.lines[n - 1]
            if n > (after or 1) and line.lstrip().startswith("["):
                break
            if pattern.match(line):
                return n
        return after

    def error(self, line, problem: str) -> RegimenError:
        return RegimenError(self.path, line, problem)


def load_protocol(directory: Path | None = None, name: str = "all-baby-2021") -> Protocol:
    root = Path(directory) if directory is not None else default_directory()
    return _load_protocol(root.resolve(), name)


@cache
def _load_protocol(root: Path, name: str) -> Protocol:
    drugs = _load_drugs(Source(root / "drugs.toml"))
    source = Source(root / name / "protocol.toml")
    data = source.data
    known_keys(source, data, ("protocol", "verification", "bsa", "infant_fraction", "drugs", "age_tables",
                             "rounding", "products", "fluid", "infusion_volumes", "dates"), None, "the file")
    head = _table(source, data, "protocol", None)
    known_keys(source, head, ("name", "registry", "version", "phases"), source.header_line("[protocol]"), "[protocol]")
    phases = head.get("phases")
    if not isinstance(phases, list) or not all(isinstance(p, str) and re.fullmatch(r"[A-Za-z0-9_]+", p) for p in phases):
        raise source.error(source.key_line("phases", source.header_line("[protocol]")), "phases must be a list of phase names")

    bsa_line = source.header_line("[bsa]")
    bsa = tagged(source, _table(source, data, "bsa", None), "formula", bsa_line, "BSA formula")
    if bsa.value not in BSA_FORMULAS:
        raise source.error(source.key_line("formula", bsa_line), f"unknown BSA formula {bsa.value!r}; use one of {', '.join(BSA_FORMULAS)}")

    fraction_line = source.header_line("[infant_fraction]")
    fraction = tagged(source, _table(source, data, "infant_fraction", None), "bands", fraction_line, "infant age fraction")
    fraction = attrs.evolve(fraction, value=_fraction_bands(source, fraction.value, source.key_line("bands", fraction_line)))

    verification = data.get("verification")
    if verification is not None:
        line = source.header_line("[verification]")
        known_keys(source, verification, ("by", "date", "protocol_version"), line, "[verification]")
        if not all(verification.get(k) for k in ("by", "date", "protocol_version")):
            raise source.error(line, "verification needs by, date and protocol_version: who checked, when, against which protocol version")

    settings = {}
    for drug, table in _table(source, data, "drugs", None, required=False).items():
        line = source.header_line(f"[drugs.{drug}]")
        if drug not in drugs:
            raise source.error(line, f"unknown drug {drug!r}")
        known_keys(source, table, ("cap", "rounding"), line, f"[drugs.{drug}]")
        settings[drug] = {
            key: _amount(source, table, key, line, drugs[drug]) for key in ("cap", "rounding") if key in table
        }

    tables = {}
    for table_name, table in _table(source, data, "age_tables", None, required=False).items():
        line = source.header_line(f"[age_tables.{table_name}]")
        known_keys(source, table, ("dose",), line, f"[age_tables.{table_name}]")
        value = tagged(source, table, "dose", line, "INTRATHECAL age table")
        tables[table_name] = (_age_bands(source, value.value, source.key_line("dose", line)), value)

    return Protocol(
        name=_text(source, head, "name", source.header_line("[protocol]")),
        registry=_text(source, head, "registry", source.header_line("[protocol]")),
        version=_text(source, head, "version", source.header_line("[protocol]")),
        phases=tuple(phases),
        bsa_formula=bsa,
        infant_fraction=fraction,
        verification=verification,
        directory=root / name,
        drugs=drugs,
        drug_settings=settings,
        age_tables=tables,
        **_measuring(source, data, drugs, bsa_line),
    )


def _measuring(source: Source, data: dict, drugs: dict, bsa_line) -> dict:
    """The BSA step, the rounding bound, the products doses are drawn up from, and the fluid rules
    (reference.md §1 and §12). Each is optional, so a centre's older regimen folder still loads."""
    found = {}
    bsa = data.get("bsa", {})
    known_keys(source, bsa, ("formula", "rounding"), bsa_line, "[bsa]")
    if "rounding" in bsa:
        value = tagged(source, bsa, "rounding", bsa_line, "BSA rounding step")
        try:
            step = parse_size(value.value) if isinstance(value.value, str) else None
        except ValueError:
            step = None
        if step is None or not step.check("[length] ** 2") or not 0 < step.m_as("m**2") <= 0.01:
            raise source.error(source.key_line("rounding", bsa_line), 'the BSA rounding step is an area from 0.0001 to 0.01 m2, e.g. "0.0001 m2"')
        found["bsa_rounding"] = attrs.evolve(value, value=step)
    if "rounding" in data:
        line = source.header_line("[rounding]")
        table = _table(source, data, "rounding", line)
        known_keys(source, table, ("max_change", "smallest_volume"), line, "[rounding]")
        change = tagged(source, table, "max_change", line, "largest change rounding may make")
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*%\s*", change.value) if isinstance(change.value, str) else None
        if not match or not 0 < float(match.group(1)) <= 25:
            raise source.error(source.key_line("max_change", line), 'max_change is a percentage from 0 to 25, e.g. "10 %"')
        found["max_rounding_change"] = attrs.evolve(change, value=Fraction(match.group(1)) / 100)
        volume = tagged(source, table, "smallest_volume", line, "smallest volume measured")
        found["smallest_volume"] = attrs.evolve(volume, value=_product_amount(source, volume.value, source.key_line("smallest_volume", line), "mL"))
    products = {}
    for drug, table in _table(source, data, "products", None, required=False).items():
        line = source.header_line(f"[products.{drug}]")
        if drug not in drugs:
            raise source.error(line, f"unknown drug {drug!r}")
        known_keys(source, table, drugs[drug].routes, line, f"[products.{drug}] (routes of {drug})")
        for route in table:
            value = tagged(source, table, route, line, "product concentration", extra=("form",))
            form = table[route].get("form")
            if not isinstance(form, str) or not form.strip():
                raise source.error(source.key_line(route, line), f"{route} needs form = \"...\": the product as the pharmacy knows it")
            concentration = _product_amount(source, value.value, source.key_line(route, line), f"{drugs[drug].unit}/mL")
            products[(drug, route)] = Product(form=form, concentration=attrs.evolve(value, value=concentration))
    found["products"] = products
    if "fluid" in data:
        line = source.header_line("[fluid]")
        table = _table(source, data, "fluid", line)
        known_keys(source, table, ("maintenance", "warn_above"), line, "[fluid]")
        maintenance = tagged(source, table, "maintenance", line, "maintenance fluid")
        bands, below = [], 0
        for band in maintenance.value if isinstance(maintenance.value, list) else [None]:
            if not isinstance(band, dict) or set(band) != {"up_to_kg", "ml_per_kg_per_day"} or not all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in band.values()) or band["up_to_kg"] <= below:
                raise source.error(source.key_line("maintenance", line), "maintenance is a list of { up_to_kg, ml_per_kg_per_day }, rising in weight")
            bands.append((band["up_to_kg"], band["ml_per_kg_per_day"]))
            below = band["up_to_kg"]
        warn = tagged(source, table, "warn_above", line, "share of maintenance fluid before a warning")
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*%\s*", warn.value) if isinstance(warn.value, str) else None
        if not match or not 0 < float(match.group(1)) <= 200:
            raise source.error(source.key_line("warn_above", line), 'warn_above is a percentage of the maintenance volume, e.g. "50 %"')
        found["fluid"] = Fluid(maintenance=attrs.evolve(maintenance, value=tuple(bands)),
                               warn_above=attrs.evolve(warn, value=Fraction(match.group(1)) / 100))
    volumes = {}
    line = source.header_line("[infusion_volumes]")
    for drug in _table(source, data, "infusion_volumes", None, required=False):
        if drug not in drugs:
            raise source.error(source.key_line(drug, line), f"unknown drug {drug!r}")
        value = tagged(source, data["infusion_volumes"], drug, line, "infusion volume")
        at = source.key_line(drug, line)
        written = value.value.split(maxsplit=1)[-1].replace(" ", "") if isinstance(value.value, str) else None
        if written not in ("mL", f"{drugs[drug].unit}/mL"):
            raise source.error(at, f"{drug}: an infusion volume is a bag (\"25 mL\") or a concentration the dose is made up to (\"0.4 {drugs[drug].unit}/mL\")")
        volumes[drug] = attrs.evolve(value, value=_product_amount(source, value.value, at, written))
    found["infusion_volumes"] = volumes
    return found


def _product_amount(source, text, line, wanted: str):
    """A product amount written with its unit ("0.4 mg/mL", "0.01 mL"), of exactly the unit wanted."""
    from dosing.units import parse_product

    try:
        quantity = parse_product(text) if isinstance(text, str) else None
    except ValueError:
        quantity = None
    if quantity is None or text.split(maxsplit=1)[-1].replace(" ", "") != wanted or not quantity.magnitude > 0:
        raise source.error(line, f"{text!r} must be an amount above zero in {wanted}, e.g. \"1 {wanted}\"")
    return quantity


def load_phase(protocol: Protocol, name: str) -> Phase:
    if name not in protocol.phases:
        raise RegimenError(protocol.directory / "protocol.toml", None, f"the protocol has no phase {name!r}; it has {', '.join(protocol.phases)}")
    return _load_phase(protocol.directory.parent, protocol.directory.name, name)


@cache
def _load_phase(root: Path, protocol_name: str, name: str) -> Phase:
    protocol = _load_protocol(root, protocol_name)
    source = Source(protocol.directory / f"{name}.toml")
    data = source.data
    known_keys(source, data, ("phase", "order"), None, "the file")
    head_line = source.header_line("[phase]")
    head = _table(source, data, "phase", None)
    known_keys(source, head, ("name", "title", "length_days", "tests", "ends", "next_after_days", "titrated", "orders_from", "start_criteria"), head_line, "[phase]")
    if head.get("name") != name:
        raise source.error(source.key_line("name", head_line), f"phase name must be {name!r}, as the file is named")
    length = tagged(source, head, "length_days", head_line, "phase length")
    if not isinstance(length.value, int) or isinstance(length.value, bool) or not 1 <= length.value <= 800:
        raise source.error(source.key_line("length_days", head_line), "length_days must be a whole number of days from 1 to 800")
    tests = tagged(source, head, "tests", head_line, "tests") if "tests" in head else None
    extra = {}
    if "ends" in head:
        extra["ends"] = tagged(source, head, "ends", head_line, "phase end")
        if not re.fullmatch(r"\d+ weeks after diagnosis", str(extra["ends"].value)):
            raise source.error(source.key_line("ends", head_line), 'ends must read "N weeks after diagnosis"')
    if "next_after_days" in head:
        extra["next_after_days"] = tagged(source, head, "next_after_days", head_line, "interval to the next phase")
        if not isinstance(extra["next_after_days"].value, int) or isinstance(extra["next_after_days"].value, bool) or extra["next_after_days"].value < 1:
            raise source.error(source.key_line("next_after_days", head_line), "next_after_days must be a whole number of days")
    if "start_criteria" in head:
        extra["start_criteria"] = tagged(source, head, "start_criteria", head_line, "start criteria")
    if "titrated" in head:
        if not isinstance(head["titrated"], bool):
            raise source.error(source.key_line("titrated", head_line), "titrated must be true or false")
        extra["titrated"] = head["titrated"]
    if "orders_from" in head:
        # Consolidations 2 and 3 repeat consolidation 1: one copy of the orders, so they cannot drift apart.
        other = head["orders_from"]
        if not isinstance(other, str) or other not in protocol.phases or other == name or "order" in data:
            raise source.error(source.key_line("orders_from", head_line), "orders_from names another phase of the protocol, and the file then has no [[order]] of its own")
        source_of_orders = Source(protocol.directory / f"{other}.toml")
        if "orders_from" in source_of_orders.data.get("phase", {}):
            raise source.error(source.key_line("orders_from", head_line), f"{other} takes its orders from another phase itself")
        source, data = source_of_orders, source_of_orders.data
    raw_orders = data.get("order")
    if not isinstance(raw_orders, list) or not raw_orders:
        raise source.error(None, "the phase has no [[order]] entries")
    orders = []
    for i, raw in enumerate(raw_orders):
        orders.append(_order(source, protocol, raw, source.header_line("[[order]]", i), length.value, orders))
    orders = tuple(orders)
    _no_double_orders(source, orders)
    return Phase(
        name=name,
        title=_text(source, head, "title", head_line),
        length_days=length,
        orders=orders,
        tests=tests,
        path=source.path,
        **extra,
    )


@attrs.frozen
class Substitution:
    """A drug given instead of another, chosen by the pharmacist (substitutions.toml)."""

    name: str
    replaces: str  #: the drug whose orders it replaces
    answers: str  #: what it is for, as the sheet prints it
    orders: tuple[Order, ...]  #: the orders that take the replaced ones' place
    from_age_months: Value


def substitutions(protocol: Protocol) -> dict:
    """The substitutions a centre's data offers, by name (no file: none)."""
    path = protocol.directory / "substitutions.toml"
    return _substitution_entries(path) if path.is_file() else {}


@cache
def _substitution_entries(path: Path) -> dict:
    source = Source(path)
    entries = {}
    for name, raw in source.data.items():
        line = source.header_line(f"[{name}]")
        if not isinstance(raw, dict):
            raise source.error(line, f"{name} must be a table")
        known_keys(source, raw, ("replaces", "for", "drug", "route", "dose", "doses_after", "infant_fraction", "rounding", "note",
                                 "duration", "from_age_months"), line, f"[{name}]")
        for key in ("replaces", "for"):
            _text(source, raw, key, line)
        after = tagged(source, raw, "doses_after", line, "days of the substitute's doses")
        if not isinstance(after.value, list) or not after.value or not all(
                isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 60 for d in after.value) or after.value != sorted(set(after.value)):
            raise source.error(source.key_line("doses_after", line), "doses_after is a rising list of whole days from 0 to 60, e.g. [0, 2, 4]")
        age = tagged(source, raw, "from_age_months", line, "youngest age on the label")
        if not isinstance(age.value, int) or isinstance(age.value, bool) or age.value < 0:
            raise source.error(source.key_line("from_age_months", line), "from_age_months is a whole number of months")
        entries[name] = (source, raw, line, after, age)
    return entries


def substitute(protocol: Protocol, phase: Phase, name: str) -> tuple[Phase, Substitution]:
    """The phase with the named substitution's orders in place of the drug it replaces.

    The phase runs on to the substitute's last dose when that falls after the phase's last day.
    """
    from dosing.errors import InputError

    offered = substitutions(protocol)
    if name not in offered:
        raise InputError("--substitute", f"no substitution {name!r} in the regimen data",
                         f"choose one of: {', '.join(offered) or 'none is offered'}")
    source, raw, line, after, age = offered[name]
    if raw["replaces"] not in protocol.drugs:
        raise source.error(source.key_line("replaces", line), f"unknown drug {raw['replaces']!r}")
    replaced = [o for o in phase.orders if o.drug.name == raw["replaces"]]
    if not replaced:
        raise InputError("--substitute", f"{phase.title} orders no {protocol.drugs[raw['replaces']].print_name}, so there is nothing for {name} to replace",
                         "leave out --substitute for this phase")
    new_orders, length = [], phase.length_days.value
    for order in replaced:
        days = sorted({day + k for day in order.days for k in after.value})
        entry = {key: value for key, value in raw.items() if key not in ("replaces", "for", "doses_after", "from_age_months")}
        entry["days"] = {"value": days, "tag": after.tag, "source": after.source}
        entry["note"] = f"SUBSTITUTION for {protocol.drugs[raw['replaces']].print_name} ({raw['for']})" + (
            f"; {raw['note']}" if raw.get("note") else "")
        new_orders.append(_order(source, protocol, entry, line, max(length, days[-1])))
    last = max([length] + [o.days[-1] for o in new_orders])
    orders = tuple(o for o in phase.orders if o.drug.name != raw["replaces"]) + tuple(new_orders)
    extended = phase.length_days if last == length else Value(
        what="phase length", value=last, tag=after.tag,
        source=f"{phase.length_days.source}; runs on to the last {raw['drug']} dose of the substitution ({after.source})")
    changed = attrs.evolve(phase, orders=orders, length_days=extended)
    return changed, Substitution(name=name, replaces=raw["replaces"], answers=raw["for"], orders=tuple(new_orders), from_age_months=age)


_ORDER_KEYS = (
    "drug", "route", "route_note", "dose", "days", "taper", "infant_fraction",
    "cap", "rounding", "duration", "window", "small_infant",
    "schedule", "first_dose_at", "after", "split", "weekly", "continuous", "note",
)
_SERIES = re.compile(r"every (\d+) hours, (\d+) doses")
_CLOCK = re.compile(r"([01]\d|2[0-3]):[0-5]\d|infusion start")


def _order(source: Source, protocol: Protocol, raw: dict, line: int | None, length: int, earlier=()) -> Order:
    if not isinstance(raw, dict):
        raise source.error(line, "each [[order]] must be a table")
    known_keys(source, raw, _ORDER_KEYS, line, "an order")
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
        days = _days(source, days_value.value, at("days"), length)
    fields = dict(drug=drug, route=route, line=line, days=days, days_value=days_value, timing=timing)
    for key in ("weekly", "continuous"):
        if key in raw:
            if not isinstance(raw[key], bool):
                raise source.error(at(key), f"{key} must be true or false")
            fields[key] = raw[key]
    if fields.get("weekly") and any(b - a != 7 for a, b in zip(days, days[1:])):
        raise source.error(at("days"), f"a weekly order must fall every 7 days; days {list(days)} do not")
    if "note" in raw:
        fields["note"] = _text(source, raw, "note", line)
    if timing is not None and timing.every_hours is not None and timing.first_dose_at != "infusion start":
        first_hour = int(timing.first_dose_at[:2])
        span = (first_hour + timing.every_hours * (timing.doses - 1)) // 24 + 1
        if len(days) != span or days != tuple(range(days[0], days[0] + span)):
            raise source.error(at("days"), f"{timing.doses} doses every {timing.every_hours} hours from day {days[0]} fall on days {days[0]}-{days[0] + span - 1}; days must say so")
    if "route_note" in raw:
        fields["route_note"] = _text(source, raw, "route_note", line)

    dose = raw.get("dose")
    if isinstance(dose, dict) and "age_table" in dose:
        if set(dose) != {"age_table"}:
            raise source.error(at("dose"), "a dose from an age table names only the table: dose = { age_table = \"...\" }")
        table = protocol.age_tables.get(dose["age_table"]) if isinstance(dose["age_table"], str) else None
        if table is None:
            raise source.error(at("dose"), f"no age table {dose['age_table']!r} in protocol.toml; it has {', '.join(protocol.age_tables)}")
        bands, value = table
        for band in bands:
            if drug_unit(band.dose) != drug.unit:
                raise source.error(at("dose"), f"{drug.name} is ordered in {drug.unit}, the age table gives {band.text}")
        fields.update(age_bands=bands, age_value=value)
        fraction = raw.get("infant_fraction")
        if "taper" in raw or "divided" in dose or (isinstance(fraction, dict) and fraction.get("value") is True):
            raise source.error(at("dose"), "an age-table dose is fixed: no taper, divided doses or infant fraction")
    else:
        if route == "INTRATHECAL":
            raise source.error(at("dose"), "INTRATHECAL doses are fixed by age and never from BSA or weight: use dose = { age_table = \"...\" }")
        value = tagged(source, raw, "dose", line, "dose", extra=("divided",))
        basis = _basis(source, value.value, at("dose"), drug)
        steps = [Step(days=days, basis=basis, text=value.value, value=attrs.evolve(value, what="dose"))]
        divided = value_divided = dose.get("divided", 1)
        if not isinstance(divided, int) or isinstance(divided, bool) or not 1 <= divided <= 6:
            raise source.error(at("dose"), "divided must be a whole number of doses a day, 1 to 6")
        if value_divided > 1 and not is_per_day(basis):
            raise source.error(at("dose"), f"divided = {divided} needs a daily dose such as \"6 mg/m2/day\"; {value.value!r} is per administration")
        fields["divided"] = divided
        if timing is not None and (timing.every_hours or timing.after) and (is_per_day(basis) or divided > 1):
            raise source.error(at("dose"), "a dose given on a clock is per administration, not per day")
        if fields.get("continuous") and (not is_per_day(basis) or divided > 1):
            raise source.error(at("dose"), "a continuous infusion is dosed per day, such as \"15 mcg/m2/day\"")
        if "split" in raw:
            fields["split"] = _split(source, raw, line)
        if "taper" in raw:
            taper = tagged(source, raw, "taper", line, "taper")
            taper = attrs.evolve(taper, what="taper")
            if not isinstance(taper.value, list) or not taper.value:
                raise source.error(at("taper"), "taper must be a list of { days, dose } steps")
            for stage in taper.value:
                if not isinstance(stage, dict) or set(stage) != {"days", "dose"}:
                    raise source.error(at("taper"), "each taper step is { days = \"29-31\", dose = \"3 mg/m2/day\" }")
                stage_basis = _basis(source, stage["dose"], at("taper"), drug)
                if basis_kind(stage_basis) != basis_kind(basis) or is_per_day(stage_basis) != is_per_day(basis):
                    raise source.error(at("taper"), f"taper dose {stage['dose']!r} is not of the same kind as {value.value!r}")
                steps.append(Step(days=_days(source, stage["days"], at("taper"), length), basis=stage_basis, text=stage["dose"], value=taper))
        seen = set()
        for step in steps:
            if seen & set(step.days):
                raise source.error(at("taper"), f"days {sorted(seen & set(step.days))} have two doses")
            seen |= set(step.days)
        fields["steps"] = tuple(steps)
        fields["days"] = tuple(sorted(seen))
        if "infant_fraction" in raw:
            fraction = tagged(source, raw, "infant_fraction", line, "infant fraction applies")
            if not isinstance(fraction.value, bool):
                raise source.error(at("infant_fraction"), "infant_fraction must be true or false")
            fields["infant_fraction"] = fraction
        else:
            raise source.error(line, f"the {drug.name} order must say whether the infant fraction applies: infant_fraction = {{ value = true, tag = ..., source = ... }}")
        if "small_infant" in raw:
            fields["small_infant"] = _small_infant(source, raw, line, drug)

    defaults = protocol.drug_settings.get(drug.name, {})
    for key in ("cap", "rounding"):
        if key in raw:
            fields[key] = _amount(source, raw, key, line, drug)
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


def _timing(source: Source, raw: dict, line, earlier) -> tuple[Timing | None, tuple[int, ...]]:
    """The clock of an order: a series, a time of day, or hours after another order."""
    at = lambda key: source.key_line(key, line)  # noqa: E731
    first = raw.get("first_dose_at")
    if first is not None and (not isinstance(first, str) or not _CLOCK.fullmatch(first)):
        raise source.error(at("first_dose_at"), 'first_dose_at must be a time "HH:MM" or "infusion start"')
    if "after" in raw:
        value = tagged(source, raw, "after", line, "timing")
        after = value.value
        if not isinstance(after, dict) or set(after) != {"drug", "route", "hours"} or not after["hours"] or not all(
            isinstance(h, (int, float)) and not isinstance(h, bool) and 0 <= h <= 240 for h in after["hours"]
        ):
            raise source.error(at("after"), 'after is { drug = "methotrexate", route = "IV", hours = [42, 48, 54] }')
        anchor = next((o for o in earlier if (o.drug.name, o.route) == (after["drug"], after["route"])), None)  # == only: no hashing of file values
        if anchor is None or anchor.timing is None or (anchor.timing.first_dose_at is None and anchor.timing.after is None):
            raise source.error(at("after"), f"{after['drug']} {after['route']} must be ordered earlier in the file, with first_dose_at")
        if first is not None or "schedule" in raw:
            raise source.error(at("after"), "an order timed after another has no first_dose_at or schedule of its own")
        # The days follow from the clock. Here, every day they can reach: an anchor dose
        # at 00:00 moves h hours to day offset h // 24, one at 23:59 to (h + 23.99) // 24.
        reach = {d + k for d in anchor.days for h in after["hours"] for k in range(int(h // 24), int((h + 23.99) // 24) + 1)}
        return Timing(after=(after["drug"], after["route"]), hours=tuple(after["hours"]), value=value), tuple(sorted(reach))
    if "schedule" in raw:
        value = tagged(source, raw, "schedule", line, "dose schedule")
        match = _SERIES.fullmatch(str(value.value))
        if not match or first is None:
            raise source.error(at("schedule"), 'schedule reads "every 12 hours, 5 doses", with first_dose_at = "08:00"')
        every, doses = int(match.group(1)), int(match.group(2))
        if not 1 <= every <= 24 or not 1 <= doses <= 50:
            raise source.error(at("schedule"), "schedule: every 1 to 24 hours, 1 to 50 doses")
        return Timing(first_dose_at=first, every_hours=every, doses=doses, value=value), ()
    if first is not None:
        return Timing(first_dose_at=first), ()
    return None, ()


def _split(source: Source, raw: dict, line) -> Value:
    """Parts of one infusion, e.g. 10 % over 30 minutes then 90 % over 23.5 hours."""
    value = tagged(source, raw, "split", line, "infusion split")
    parts = value.value
    try:
        fractions = [Fraction(part["fraction"]) for part in parts]
        overs = [part["over"] for part in parts]
        ok = all(set(part) == {"fraction", "over"} and isinstance(part["over"], str) for part in parts)
    except (TypeError, KeyError, ValueError, ZeroDivisionError):
        ok = False
    if not ok or sum(fractions) != 1 or any(f <= 0 for f in fractions):
        raise source.error(source.key_line("split", line), 'split is [{ fraction = "1/10", over = "30 minutes" }, ...], fractions adding up to 1')
    return attrs.evolve(value, value=tuple(zip(fractions, overs)))


def _no_double_orders(source: Source, orders) -> None:
    """One entry per drug per day per route (the JSON contract), so no two orders overlap."""
    for i, first in enumerate(orders):
        for second in orders[i + 1:]:
            if (first.drug, first.route) == (second.drug, second.route):
                common = set(first.days) & set(second.days)
                if common:
                    raise source.error(second.line, f"{second.drug.name} {second.route} is ordered twice on days {sorted(common)}")


def _load_drugs(source: Source) -> dict:
    drugs = {}
    for name, entry in source.data.items():
        line = source.header_line(f"[{name}]")
        if not isinstance(entry, dict):
            raise source.error(line, f"{name} must be a table")
        known_keys(source, entry, ("print_name", "class", "routes", "unit", "label", "names"), line, f"[{name}]")
        other_names = entry.get("names", [])
        if not isinstance(other_names, list) or not all(isinstance(n, str) and n.strip() for n in other_names):
            raise source.error(source.key_line("names", line), "names must be a list of text: common names and brands")
        routes = entry.get("routes")
        if not isinstance(routes, list) or not routes or not set(routes) <= set(ROUTES):
            raise source.error(source.key_line("routes", line), f"routes must be a list from {', '.join(ROUTES)}")
        if entry.get("unit") not in ("mg", "mcg", "units"):
            raise source.error(source.key_line("unit", line), "unit must be mg, mcg or units")
        drug = Drug(
            name=name,
            print_name=_text(source, entry, "print_name", line),
            drug_class=_text(source, entry, "class", line),
            routes=tuple(routes),
            unit=entry["unit"],
            label=_text(source, entry, "label", line) if "label" in entry else None,
            names=tuple(other_names),
        )
        if "INTRATHECAL" in drug.routes and drug.drug_class not in INTRATHECAL_CLASSES:
            raise source.error(source.key_line("routes", line), f"{name} must never be given INTRATHECAL")
        drugs[name] = drug
    return drugs


# -- small readers --------------------------------------------------------------


def known_keys(source, table: dict, known, line, where: str) -> None:
    for key in table:
        if key not in known:
            raise source.error(source.key_line(key, line) if line else line, f"{key!r} is not a field of {where}; known: {', '.join(known)}")


def _table(source, data: dict, key: str, line, required: bool = True) -> dict:
    value = data.get(key, None if required else {})
    if not isinstance(value, dict):
        raise source.error(line, f"[{key}] is missing or not a table")
    return value


def _text(source, table: dict, key: str, line) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise source.error(source.key_line(key, line), f"{key} must be non-empty text")
    return value


def tagged(source, table: dict, key: str, line, what: str, extra=()) -> Value:
    """A value written { value = ..., tag = ..., source = ... }: no tag, no load."""
    at = source.key_line(key, line)
    raw = table.get(key)
    if raw is None:
        raise source.error(line, f"{key} is missing")
    if not isinstance(raw, dict) or "value" not in raw:
        raise source.error(at, f"{key} must be written {{ value = ..., tag = \"S|P|A|?\", source = \"...\" }}")
    unknown = set(raw) - {"value", "tag", "source", *extra}
    if unknown:
        raise source.error(at, f"{key} has unknown fields {sorted(unknown)}")
    if raw.get("tag") not in TAGS:
        raise source.error(at, f"{key} has no valid provenance tag (got {raw.get('tag')!r}); every value needs tag = \"S\", \"P\", \"A\" or \"?\"")
    if not isinstance(raw.get("source"), str) or not raw["source"].strip():
        raise source.error(at, f"{key} has no source; say where the value comes from")
    return Value(what=what, value=raw["value"], tag=raw["tag"], source=raw["source"])


def _basis(source, text, line, drug: Drug):
    if not isinstance(text, str):
        raise source.error(line, f"dose {text!r} must be text with its unit, such as \"1.5 mg/m2\"")
    try:
        quantity = parse_dose(text)
        basis_kind(quantity)
        unit = drug_unit(quantity)
    except ValueError as exc:
        raise source.error(line, f"dose {text!r}: {exc}") from None
    if unit != drug.unit:
        raise source.error(line, f"{drug.name} is ordered in {drug.unit}, not {unit} ({text!r})")
    if not 0 < quantity.magnitude < 1e9:  # also refuses infinity and NaN ("1e999 mg" reads as infinite)
        raise source.error(line, f"dose {text!r} must be above zero and below 1,000,000,000")
    return quantity


def _amount(source, table, key: str, line, drug: Drug) -> Value:
    """A cap or a rounding step: a fixed amount in the drug's unit."""
    value = tagged(source, table, key, line, key)
    at = source.key_line(key, line)
    quantity = _basis(source, value.value, at, drug)
    if basis_kind(quantity) != "fixed" or is_per_day(quantity) and key == "rounding":
        raise source.error(at, f"{key} must be an amount such as \"2 {drug.unit}\", got {value.value!r}")
    return attrs.evolve(value, value=quantity)


def _days(source, value, line, length: int) -> tuple[int, ...]:
    days: list[int] = []
    every = re.fullmatch(r"\s*every (\d+) days?(?: from day (\d+))?\s*", value) if isinstance(value, str) else None
    if every:
        step, first = int(every.group(1)), int(every.group(2) or 1)
        if step < 1:
            raise source.error(line, "every N days needs N of at least 1")
        days = list(range(first, length + 1, step))
    elif isinstance(value, str):
        for part in value.split(","):
            match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
            if not match:
                raise source.error(line, f"days {value!r}: write them as \"1-28\" or \"8, 15, 22\"")
            first, last = int(match.group(1)), int(match.group(2) or match.group(1))
            if last < first:
                raise source.error(line, f"days {value!r}: range {first}-{last} runs backwards")
            days.extend(range(first, last + 1))
    elif isinstance(value, list) and all(isinstance(d, int) and not isinstance(d, bool) for d in value):
        days = list(value)
    else:
        raise source.error(line, f"days {value!r}: write them as \"1-28\", \"8, 15, 22\", [8, 15, 22] or \"every 7 days\"")
    if not days:
        raise source.error(line, "days is empty")
    outside = [d for d in days if not 1 <= d <= length]
    if outside:
        raise source.error(line, f"days {outside} are outside the phase (days 1 to {length})")
    if len(set(days)) != len(days):
        raise source.error(line, f"days {value!r} lists a day twice")
    return tuple(sorted(days))


def _fraction_bands(source, value, line):
    if not isinstance(value, list) or not value:
        raise source.error(line, "bands must be a list of { below_months, factor }")
    bands, previous = [], 0
    for band in value:
        if not isinstance(band, dict) or set(band) != {"below_months", "factor"}:
            raise source.error(line, "each band is { below_months = 6, factor = \"2/3\" }")
        below = band["below_months"]
        try:
            factor = Fraction(band["factor"])
        except (ValueError, TypeError, ZeroDivisionError):
            raise source.error(line, f"factor {band['factor']!r} must be a fraction such as \"2/3\"") from None
        if not isinstance(below, int) or isinstance(below, bool) or below <= previous or not 0 < factor <= 1:
            raise source.error(line, "bands must rise in age, with factors above 0 and at most 1")
        bands.append((below, factor))
        previous = below
    return tuple(bands)


def _age_bands(source, value, line) -> tuple[AgeBand, ...]:
    if not isinstance(value, list) or not value:
        raise source.error(line, "an age table is a list of { from_months, dose }")
    bands = []
    for entry in value:
        if not isinstance(entry, dict) or set(entry) != {"from_months", "dose"}:
            raise source.error(line, "each age band is { from_months = 12, dose = \"8 mg\" }")
        start = entry["from_months"]
        if not isinstance(start, int) or isinstance(start, bool) or (bands and start <= bands[-1].from_months):
            raise source.error(line, "from_months must be whole months, rising")
        try:
            dose = parse_dose(entry["dose"]) if isinstance(entry["dose"], str) else None
            fixed = dose is not None and basis_kind(dose) == "fixed" and not is_per_day(dose)
        except ValueError:
            fixed = False
        if not fixed or not dose.magnitude > 0:
            raise source.error(line, f"age-band dose {entry['dose']!r} must be a fixed amount such as \"6 mg\"")
        bands.append(AgeBand(from_months=start, dose=dose, text=entry["dose"]))
    if bands[0].from_months != 0:
        raise source.error(line, "the first age band must start at from_months = 0")
    return tuple(bands)


def _small_infant(source, raw: dict, line, drug: Drug) -> SmallInfantRule:
    value = tagged(source, raw, "small_infant", line, "small-infant label dose", extra=("when_weight_at_most", "when_bsa_below", "use"))
    entry = raw["small_infant"]
    at = source.key_line("small_infant", line)
    basis = _basis(source, value.value, at, drug)
    if basis_kind(basis) != "per_kg":
        raise source.error(at, f"small_infant dose must be per kg, got {value.value!r}")
    conditions = [k for k in ("when_weight_at_most", "when_bsa_below") if k in entry]
    if len(conditions) != 1 or not isinstance(entry.get("use"), bool):
        raise source.error(at, "small_infant needs one of when_weight_at_most or when_bsa_below, and use = true or false")
    try:
        threshold = parse_size(entry[conditions[0]])
    except (ValueError, TypeError) as exc:
        raise source.error(at, f"small_infant threshold: {exc}") from None
    wanted = "[mass]" if conditions[0] == "when_weight_at_most" else "[length] ** 2"
    if not threshold.check(wanted):
        raise source.error(at, f"{conditions[0]} must be a {'weight in kg' if wanted == '[mass]' else 'BSA in m2'}")
    return SmallInfantRule(
        basis=basis,
        text=value.value,
        weight_at_most=threshold if conditions[0] == "when_weight_at_most" else None,
        bsa_below=threshold if conditions[0] == "when_bsa_below" else None,
        use=entry["use"],
        value=value,
    )
