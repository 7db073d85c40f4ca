"""Grammar results as pint quantities, for the engine's arithmetic.

The grammar (grammar.py) reads a string to an exact amount and its unit; the
engine computes with pint quantities in the project's one registry. This is
the only place one becomes the other.
"""

from dosing.regimen import grammar
from dosing.units import Q

_PER = {"": "", "m2": "/m**2", "kg": "/kg"}
# Sizes a conditional rule is written in (small_infant thresholds, the BSA step).
SIZE_UNITS = {"kg": "kg", "m2": "m**2"}
# Units of a product's and a preparation's settings (protocol.toml products, products/*.toml).
PRODUCT_UNITS = {"mcg": "mcg", "mg": "mg", "mL": "mL", "mcg/mL": "mcg/mL", "mg/mL": "mg/mL", "units/mL": "units/mL",
                 "mL/h": "mL/hour", "kg": "kg"}


def dose_quantity(dose: grammar.Dose):
    """30 mg per m2 -> 30 mg/m**2; 15 mcg per m2 per day -> 15 mcg/m**2/day."""
    return Q(float(dose.amount), dose.unit + _PER[dose.per] + ("/day" if dose.per_day else ""))


def parse_dose(text: str):
    """A dose written in a regimen file, as a pint quantity (ValueError with the fix if it is not one)."""
    return dose_quantity(grammar.dose(text))


def parse_size(text: str):
    """A weight in kg or a body surface in m2 (written "10 kg", "0.6 m2")."""
    value, written = grammar.amount(text, SIZE_UNITS)
    return Q(float(value), SIZE_UNITS[written])


def parse_product(text: str, wanted=None):
    """A product or preparation amount ("0.4 mg/mL", "10 mL/h"), of one of `wanted` units where given."""
    value, written = grammar.amount(text, wanted or PRODUCT_UNITS)
    return Q(float(value), PRODUCT_UNITS[written])
