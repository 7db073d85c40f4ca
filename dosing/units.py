"""Quantities in the project's one pint registry, and how a patient's measurements are read from text.

Every weight, length, BSA and dose is a pint quantity until it is formatted
for print. A patient measurement passes through `parse_measure`, which checks
the unit against what the field allows; pint's own parser alone is too
generous ("units" is micro-nit to it, "mg/kg" a plain number). Regimen
strings have their own written grammar (dosing/regimen/grammar.py), made
quantities by dosing/regimen/quantities.py.
"""

import re
from functools import lru_cache

# The one registry, built on first use (dosing.unit_registry), used through this module everywhere.
from dosing.unit_registry import registry

# The unit a dose is ordered in, for each drug amount pint can hold.
ORDER_UNITS = ("mg", "mcg", "units")


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


# The units a [[labs]] result may be written in, per test (docs/interfaces.md),
# each spelling mapped to pint's name. Only these are read: a unit that does
# not fit the test (a neutrophil count in mg/dL) is refused, never converted.
# Counts are cells per volume, a dimension of their own (units.txt), so a
# count can never be compared with a concentration. Enzyme activities (ALT,
# asparaginase) are pint's enzyme unit, the IU (µmol/min), per volume; the
# dose unit `units` (units.txt) stays apart from them. Spellings are matched
# ignoring case and spaces: "x 10^9/L", "×10⁹/l" and "10^9/L" are one unit.
_COUNT = {"10^9/l": "billion_cells_per_liter", "x10^9/l": "billion_cells_per_liter",
          "×10^9/l": "billion_cells_per_liter", "10⁹/l": "billion_cells_per_liter",
          "x10⁹/l": "billion_cells_per_liter", "×10⁹/l": "billion_cells_per_liter"}
_MICROMOLAR = {"umol/l": "umol/L", "µmol/l": "umol/L", "μmol/l": "umol/L"}  # micro sign and Greek mu alike
LAB_UNITS = {
    "anc": _COUNT,
    "platelets": _COUNT,
    "wbc": _COUNT,
    "hemoglobin": {"g/l": "g/L", "g/dl": "g/dL"},
    "creatinine": {**_MICROMOLAR, "mg/dl": "mg/dL"},
    "bilirubin": {**_MICROMOLAR, "mg/dl": "mg/dL"},
    "alt": {"u/l": "enzyme_unit/L", "iu/l": "enzyme_unit/L"},
    "methotrexate": _MICROMOLAR,
    "asparaginase_activity": {"u/l": "enzyme_unit/L", "iu/l": "enzyme_unit/L", "u/ml": "enzyme_unit/mL",
                              "iu/ml": "enzyme_unit/mL"},
}
# How each test's units are named in a message, the first the one a fix suggests.
LAB_UNITS_SHOWN = {
    "anc": ("10^9/L",), "platelets": ("10^9/L",), "wbc": ("10^9/L",),
    "hemoglobin": ("g/L", "g/dL"),
    "creatinine": ("umol/L", "µmol/L", "mg/dL"),
    "bilirubin": ("umol/L", "µmol/L", "mg/dL"),
    "alt": ("U/L", "IU/L"),
    "methotrexate": ("umol/L", "µmol/L"),
    "asparaginase_activity": ("U/L", "IU/L", "U/mL"),
}
# What a result of each test is, in a message: "mg/dL is not a unit of a neutrophil count".
LAB_NAMES = {
    "anc": "a neutrophil count", "platelets": "a platelet count", "wbc": "a white cell count",
    "hemoglobin": "a haemoglobin", "creatinine": "a creatinine", "bilirubin": "a bilirubin",
    "alt": "an ALT", "methotrexate": "a methotrexate level", "asparaginase_activity": "an asparaginase activity",
}

# A result of each test as a fix shows it.
LAB_EXAMPLES = {
    "anc": "1.2 10^9/L", "platelets": "150 10^9/L", "wbc": "5.4 10^9/L", "hemoglobin": "95 g/L",
    "creatinine": "25 umol/L", "bilirubin": "8 umol/L", "alt": "40 U/L", "methotrexate": "0.2 umol/L",
    "asparaginase_activity": "0.5 U/mL",
}


def parse_lab(text: str, test: str):
    """A [[labs]] value: a number (negative kept, for the caller to refuse as impossible) and one of LAB_UNITS[test].

    '1.2 10^9/L' is a neutrophil count of 1.2 (in billion_cells_per_liter,
    so it compares exactly with a criterion written '1.2 10^9/L');
    '1.2 mg/dL' for anc is refused: "'mg/dL' is not a unit of a neutrophil count" (the
    caller adds the fix from LAB_UNITS_SHOWN and LAB_EXAMPLES).
    """
    allowed, shown = LAB_UNITS[test], LAB_UNITS_SHOWN[test]
    match = _MEASURE.match(text)
    if not match:
        raise ValueError("does not start with a number")
    number, written = match.groups()
    if not written:
        raise ValueError(f"the unit is missing ({', '.join(shown)})")
    if re.match(r"^,[0-9]", written):
        raise ValueError("has a decimal comma; write a decimal point (1.2, not 1,2)")
    name = allowed.get(re.sub(r"\s+", "", written).lower())
    if name is None:
        raise ValueError(f"{_shown(written)} is not a unit of {LAB_NAMES[test]}")
    return Q(float(number), name)


def lab_unit_text(quantity) -> str:
    """A lab result's unit as a laboratory prints it: "× 10⁹/L", "µmol/L", "mg/dL", "U/L"."""
    return _lab_unit_text(quantity._units)


@lru_cache(maxsize=64)
def _lab_unit_text(units) -> str:
    known = {"billion_cells_per_liter": "× 10⁹/L", "micromole / liter": "µmol/L", "milligram / deciliter": "mg/dL",
             "gram / liter": "g/L", "gram / deciliter": "g/dL", "enzyme_unit / liter": "units/L",
             "enzyme_unit / milliliter": "units/mL"}  # ISMP: "units", never "U", on anything printed
    written = str(registry().Quantity(1, units).units)
    return known.get(written, format(registry().Unit(units), "~P"))


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
