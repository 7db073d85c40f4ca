"""The tables of protocol.toml beside the doses: measuring, products, fluid, warnings, pathway, anthracyclines.

Each value is tagged and sourced like a dose, so a centre reviews and changes
them where it reviews the rest of the regimen (docs/reference.md §1, §2, §10,
§12; docs/safety.md).
"""

from decimal import Decimal
from fractions import Fraction

import attrs

from dosing.regimen import grammar
from dosing.regimen.model import HSCT, Anthracyclines, Fluid, Pathway, Product
from dosing.regimen.quantities import parse_product, parse_size
from dosing.regimen.source import known_keys, read, table, tagged


def measuring(source, data: dict, drugs: dict, bsa_line) -> dict:
    """The BSA step, the rounding bound, the products doses are drawn up from, and the fluid rules
    (docs/reference.md §1 and §12). Each is optional, so a centre's older regimen folder still loads."""
    found = {}
    bsa = data.get("bsa", {})
    known_keys(source, bsa, ("formula", "rounding"), bsa_line, "[bsa]")
    if "rounding" in bsa:
        value = tagged(source, bsa, "rounding", bsa_line, "BSA rounding step")
        try:
            step = parse_size(value.value)
        except ValueError:
            step = None
        if step is None or not step.check("[length] ** 2") or not 0 < step.m_as("m**2") <= 0.01:
            raise source.error(source.key_line("rounding", bsa_line), 'the BSA rounding step is an area from 0.0001 to 0.01 m2, e.g. "0.0001 m2"')
        found["bsa_rounding"] = attrs.evolve(value, value=step)
    if "rounding" in data:
        line = source.header_line("[rounding]")
        entries = table(source, data, "rounding", line)
        known_keys(source, entries, ("max_change", "smallest_volume"), line, "[rounding]")
        change = tagged(source, entries, "max_change", line, "largest change rounding may make")
        at = source.key_line("max_change", line)
        found["max_rounding_change"] = attrs.evolve(change, value=_percent(source, change.value, at, 25, "max_change", "10 %"))
        volume = tagged(source, entries, "smallest_volume", line, "smallest volume measured")
        found["smallest_volume"] = attrs.evolve(volume, value=_product_amount(source, volume.value, source.key_line("smallest_volume", line), "mL"))
    products = {}
    for drug, entries in table(source, data, "products", None, required=False).items():
        line = source.header_line(f"[products.{drug}]")
        if drug not in drugs:
            raise source.error(line, f"unknown drug {drug!r}")
        known_keys(source, entries, drugs[drug].routes, line, f"[products.{drug}] (routes of {drug})")
        for route in entries:
            value = tagged(source, entries, route, line, "product concentration", extra=("form",))
            form = entries[route].get("form")
            if not isinstance(form, str) or not form.strip():
                raise source.error(source.key_line(route, line), f"{route} needs form = \"...\": the product as the pharmacy knows it")
            concentration = _product_amount(source, value.value, source.key_line(route, line), f"{drugs[drug].unit}/mL")
            products[(drug, route)] = Product(form=form, concentration=attrs.evolve(value, value=concentration))
    found["products"] = products
    if "fluid" in data:
        found["fluid"] = _fluid(source, data)
    volumes = {}
    line = source.header_line("[infusion_volumes]")
    for drug in table(source, data, "infusion_volumes", None, required=False):
        if drug not in drugs:
            raise source.error(source.key_line(drug, line), f"unknown drug {drug!r}")
        value = tagged(source, data["infusion_volumes"], drug, line, "infusion volume")
        at = source.key_line(drug, line)
        try:
            volumes[drug] = attrs.evolve(value, value=parse_product(value.value, ("mL", f"{drugs[drug].unit}/mL")))
        except ValueError:
            raise source.error(at, f"{drug}: an infusion volume is a bag (\"25 mL\") or a concentration the dose is made up to (\"0.4 {drugs[drug].unit}/mL\")") from None
    found["infusion_volumes"] = volumes
    return found


def _fluid(source, data) -> Fluid:
    line = source.header_line("[fluid]")
    entries = table(source, data, "fluid", line)
    known_keys(source, entries, ("maintenance", "warn_above"), line, "[fluid]")
    maintenance = tagged(source, entries, "maintenance", line, "maintenance fluid")
    bands, below = [], 0
    for band in maintenance.value if isinstance(maintenance.value, list) else [None]:
        if not isinstance(band, dict) or set(band) != {"up_to_kg", "ml_per_kg_per_day"} or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in band.values()) or band["up_to_kg"] <= below:
            raise source.error(source.key_line("maintenance", line), "maintenance is a list of { up_to_kg, ml_per_kg_per_day }, rising in weight")
        bands.append((band["up_to_kg"], band["ml_per_kg_per_day"]))
        below = band["up_to_kg"]
    warn = tagged(source, entries, "warn_above", line, "share of maintenance fluid before a warning")
    share = _percent(source, warn.value, source.key_line("warn_above", line), 200, "warn_above", "50 %", "of the maintenance volume")
    return Fluid(maintenance=attrs.evolve(maintenance, value=tuple(bands)), warn_above=attrs.evolve(warn, value=share))


def warnings(source, data: dict) -> dict:
    """docs/safety.md's warning thresholds: a rounded dose far from the calculated one, a weight that changed."""
    line = source.header_line("[warnings]")
    entries = table(source, data, "warnings", line)
    known_keys(source, entries, ("rounding_change", "weight_change"), line, "[warnings]")
    found = {}
    for key, field, what in (("rounding_change", "rounding_warning", "largest change rounding makes without a warning"),
                             ("weight_change", "weight_change", "weight change since the last sheet that warns")):
        value = tagged(source, entries, key, line, what)
        found[field] = attrs.evolve(value, value=_percent(source, value.value, source.key_line(key, line), 50, key, "5 %"))
    return found


def pathway(source, data: dict, phases) -> Pathway:
    """The MRD threshold and the phases each branch leads to (docs/reference.md §2)."""
    line = source.header_line("[pathway]")
    entries = table(source, data, "pathway", line)
    known_keys(source, entries, ("mrd_high_risk_from", "consolidation", "blocks", "high_risk"), line, "[pathway]")
    threshold = tagged(source, entries, "mrd_high_risk_from", line, "day-36 MRD threshold")
    share = _percent(source, threshold.value, source.key_line("mrd_high_risk_from", line), 100, "mrd_high_risk_from", "0.1 %")
    paths = {}
    for key in ("consolidation", "blocks", "high_risk"):
        value = tagged(source, entries, key, line, "phases of the pathway")
        names = value.value
        if not isinstance(names, list) or not names or not all(isinstance(n, str) and (n in phases or n == HSCT) for n in names):
            raise source.error(source.key_line(key, line), f"{key} is a list of the protocol's phases (or \"{HSCT}\", the referral); phases: {', '.join(phases)}")
        paths[key] = attrs.evolve(value, value=tuple(names))
    # The percent as a number (0.1 for "0.1 %"), compared with a result in percent.
    return Pathway(mrd_high_risk_from=attrs.evolve(threshold, value=float(share * 100)), **paths)


def anthracyclines(source, data: dict, drugs: dict) -> Anthracyclines:
    """Doxorubicin equivalents and cumulative limits (docs/reference.md §10, docs/safety.md)."""
    line = source.header_line("[anthracyclines]")
    entries = table(source, data, "anthracyclines", line)
    known_keys(source, entries, ("doxorubicin_equivalent", "young_limit", "limit"), line, "[anthracyclines]")
    factors = tagged(source, entries, "doxorubicin_equivalent", line, "doxorubicin equivalent")
    at = source.key_line("doxorubicin_equivalent", line)
    try:
        parsed = {drug: Fraction(factor) for drug, factor in factors.value.items() if drug in drugs and isinstance(factor, str)}
    except (AttributeError, ValueError, ZeroDivisionError):
        parsed = {}
    if not parsed or len(parsed) != len(factors.value) or not all(0 < f <= 10 for f in parsed.values()):
        raise source.error(at, 'doxorubicin_equivalent is { daunorubicin = "0.6", doxorubicin = "1" }: known drugs, factors above 0')
    young = tagged(source, entries, "young_limit", line, "cumulative limit for young children", extra=("below_months",))
    at = source.key_line("young_limit", line)
    below = read(source, at, grammar.whole, entries["young_limit"].get("below_months"), 1, 240, "below_months")
    limit = tagged(source, entries, "limit", line, "cumulative limit in doxorubicin equivalents")
    return Anthracyclines(
        doxorubicin_equivalent=attrs.evolve(factors, value=parsed),
        young_limit=attrs.evolve(young, value=_per(source, young.value, at, "kg")),
        young_below_months=below,
        limit=attrs.evolve(limit, value=_per(source, limit.value, source.key_line("limit", line), "m2")),
    )


def _per(source, text, at, per: str) -> Decimal:
    """A cumulative limit in mg per kg or per m2 ("10 mg/kg", "300 mg/m2")."""
    try:
        dose = grammar.dose(text)
    except ValueError as exc:
        raise source.error(at, f"{text!r}: {exc}") from None
    if dose.unit != "mg" or dose.per != per or dose.per_day:
        raise source.error(at, f"{text!r} must be in mg/{per}")
    return dose.amount


def _percent(source, text, at, high: float, key: str, example: str, of: str = "") -> Fraction:
    try:
        return grammar.percent(text, 0, high)
    except ValueError:
        raise source.error(at, f'{key} is a percentage{" " + of if of else ""} above 0 and at most {high:g}, e.g. "{example}"') from None


def _product_amount(source, text, line, wanted: str):
    """A product amount written with its unit ("0.4 mg/mL", "0.01 mL"), of exactly the unit wanted."""
    try:
        return parse_product(text, (wanted,))
    except (ValueError, KeyError):
        raise source.error(line, f"{text!r} must be an amount above zero in {wanted}, e.g. \"1 {wanted}\"") from None
