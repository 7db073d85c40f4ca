"""Chemotherapy order sheets for infants with B-lineage ALL on ALL-Baby-2021.

Nothing is imported here on purpose: `dosing --help` and the JSON orders must
start fast, so each module loads what it needs when it is used.
"""

__version__ = "0.1.0"
