"""The project's single pint registry, and how a patient's measurements are read from text.

Every weight, length, BSA and dose is a pint quantity until it is formatted
for print. A patient measurement passes through `parse_measure`, which checks
the unit against what the field allows; pint's own parser alone is too
generous ("units" is micro-nit to it, "mg/kg" a plain number). Regimen
strings have their own written grammar (dosing/regimen/grammar.py), made
quantities by dosing/regimen/quantities.py.
"""

import re
from functools import cache, lru_cache
from pathlib import Path

DEFINITIONS = Path(__file__).with_name("units.txt")

# The unit a dose is ordered in, for each drug amount pint can hold.
ORDER_UNITS = ("mg", "mcg", "units")


@cache
def registry():
    """The one registry, built on first use (not at import: start-up is kept light).

    Parsing pint's definitions costs about 0.1 s a process; pint caches the parsed
    registry in the user's cache folder (keyed by the files' content), so later
    processes load it in a few milliseconds. Without a writable cache folder it
    simply parses every time.
    """
    import pint

    try:
        ureg = pint.UnitRegistry(on_redefinition="raise", cache_folder=":auto:")
    except OSError:
        ureg = pint.UnitRegistry(on_redefinition="raise")
    ureg.load_definitions(DEFINITIONS)
    return ureg


@lru_cache(maxsize=256)
def unit(name: str):
    """A unit by name, parsed once (pint parses a unit string on every use)."""
    return registry().Unit(name)


def Q(magnitude, name: str):
    """A quantity in the project registry."""
    return registry().Quantity(magnitude, unit(name))


# The units a patient file may write a measurement in: exactly what a ward
# writes, each mapped to pint's name for it. Nothing else is read: no other
# unit pint happens to know (light years, daltons, grains), no expression
# ("6.4 kg**2/kg"), no comment or punctuation after the unit ("6.4 kg;").
# Not mg for a weight (a weight in mg is a slip), not ft for a length (an
# infant is measured in cm or inches; feet are too coarse and come with a
# second unit, "2 ft 1 in"). Matched ignoring case: "Kg" and "KG" are kg.
MEASURE_UNITS = {
    "weight": {"g": "g", "kg": "kg", "lb": "lb", "lbs": "lb", "oz": "oz"},
    "length": {"mm": "mm", "cm": "cm", "m": "m", "in": "inch"},
    "percent": {"%": "percent"},
    "anthracycline amount": {"mg": "mg"},
}

# A number as a ward writes it: digits (ASCII only), a decimal point, no
# exponent; then the unit, then nothing.
_MEASURE = re.compile(r"^\s*([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))\s*(.*?)\s*\Z", re.DOTALL)


def _shown(text: str, limit: int = 30) -> str:
    """Text quoted for a message, cut short: a message is read, not a copy of the file."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "…"


def parse_measure(text: str, kind: str):
    """A patient measurement: a number and one unit from MEASURE_UNITS[kind], nothing else.

    '6.2 kg', '6200 g' and '13.7 lb' are weights; '6.4 kg # 14.1 lb', '6.4 kg;'
    and '6 lb 4 oz' are refused. Pint's parser is never given the text, so no
    text can reach its tokenizer: only the listed spellings become units.
    """
    allowed = MEASURE_UNITS[kind]
    listed = ", ".join(allowed)
    match = _MEASURE.match(text)
    if not match:
        raise ValueError("does not start with a number")
    number, written = match.groups()
    if not written:
        raise ValueError(f"the unit is missing ({listed})")
    if re.match(r"^,[0-9]", written):
        raise ValueError("has a decimal comma; write a decimal point (6.4, not 6,4)")
    name = allowed.get(written.lower())
    if name is None:
        other = next((k for k in ("weight", "length") if k != kind and written.lower() in MEASURE_UNITS[k]), None)
        if other:
            raise ValueError(f"{_shown(written)} is a unit of {other}, not of {kind} ({listed})")
        raise ValueError(f"{_shown(written)} is not a unit of {kind} the patient file accepts ({listed})")
    return Q(float(number), name)


def is_pure_number(quantity) -> bool:
    """True only for a quantity with no units at all.

    `quantity.dimensionless` is not enough: mg/kg reduces to a plain number
    in pint, and a per-kg dose must never pass where a fraction is expected.
    """
    return not quantity._units


def basis_kind(quantity) -> str:
    """'per_m2', 'per_kg' or 'fixed', read from the units as written.

    Dimensionality cannot tell mg/kg (a per-kg dose) from a fraction, so the
    unit factors themselves are inspected.
    """
    return _basis_kind(quantity._units)


@lru_cache(maxsize=256)
def _basis_kind(units) -> str:
    quantity = registry().Quantity(1, units)
    ureg = registry()
    per_area = per_mass = False
    drug = 0
    for name, exponent in quantity._units.items():
        unit = ureg.Unit(name)
        if exponent == -2 and unit.dimensionality == ureg.m.dimensionality:
            per_area = True
        elif exponent == -1 and unit.dimensionality == ureg.kg.dimensionality:
            per_mass = True
        elif exponent == 1 and unit.dimensionality in (ureg.kg.dimensionality, ureg.units.dimensionality):
            drug += 1
        elif exponent == -1 and unit.dimensionality == ureg.day.dimensionality:
            pass
        else:
            raise ValueError(f"{quantity.units} is not a dose")
    if drug != 1 or (per_area and per_mass):
        raise ValueError(f"{quantity.units} is not a dose")
    return "per_m2" if per_area else "per_kg" if per_mass else "fixed"


def is_per_day(quantity) -> bool:
    return _is_per_day(quantity._units)


@lru_cache(maxsize=256)
def _is_per_day(units) -> bool:
    ureg = registry()
    return any(
        exponent == -1 and ureg.Unit(name).dimensionality == ureg.day.dimensionality
        for name, exponent in units.items()
    )


def drug_unit(quantity) -> str:
    """The unit an order is written in: mg, mcg or units."""
    return _drug_unit(quantity._units)


@lru_cache(maxsize=256)
def _drug_unit(units) -> str:
    ureg = registry()
    quantity = ureg.Quantity(1, units)
    for name, exponent in units.items():
        if exponent == 1:
            symbol = format(ureg.Unit(name), "~")
            if symbol == "µg":
                symbol = "mcg"
            if symbol in ORDER_UNITS:
                return symbol
    raise ValueError(f"{quantity.units} has no drug unit of mg, mcg or units")
