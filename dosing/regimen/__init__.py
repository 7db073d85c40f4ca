"""Regimen data: the protocol as TOML files in regimens/, loaded and validated.

regimens/SCHEMA.md describes the files for a pharmacist. Here:

- model.py: what a regimen is (Protocol, Phase, Order, Value ...);
- grammar.py: the one written grammar of doses, days and schedules;
- source.py: the TOML reader that names file, line and field in every message;
- load.py (protocol.toml), settings.py (its other tables), drugs.py (drugs.toml),
  phases.py (a phase file), orders.py (one [[order]]), substitutions.py;
- quantities.py: the grammar's results as pint quantities for the engine.
"""

from dosing.regimen.load import load_protocol
from dosing.regimen.model import (
    BSA_FORMULAS, HSCT, INTRATHECAL_CLASSES, ROUTES, TAG_MEANING, TAGS, AgeBand, Anthracyclines, Drug, Fluid, Order, Pathway,
    Phase, Product, Protocol, SmallInfantRule, Step, Substitution, Timing, Value, weakest,
)
from dosing.regimen.phases import load_phase
from dosing.regimen.quantities import parse_dose
from dosing.regimen.source import Source, default_directory, known_keys, tagged
from dosing.regimen.substitutions import substitute, substitutions

__all__ = [
    "BSA_FORMULAS", "HSCT", "INTRATHECAL_CLASSES", "ROUTES", "TAG_MEANING", "TAGS", "AgeBand", "Anthracyclines", "Drug",
    "Fluid", "Order", "Pathway", "Phase", "Product", "Protocol", "SmallInfantRule", "Source", "Step", "Substitution",
    "Timing", "Value", "default_directory", "known_keys", "load_phase", "load_protocol", "parse_dose", "substitute",
    "substitutions", "tagged", "weakest",
]
