"""protocol.toml: the settings every phase of a protocol shares, loaded and checked.

The code holds no dose. Everything a sheet prints comes from the files in
regimens/, each value with its provenance tag and source, and a file that is
malformed is refused with its name and the line of trouble (RegimenError),
never half-loaded. The phases are read by phases.py, on demand.
"""

import re
from fractions import Fraction
from functools import cache
from pathlib import Path

import attrs

from dosing.regimen import grammar, settings
from dosing.regimen.criteria import load_start_criteria
from dosing.regimen.drugs import load_drugs
from dosing.regimen.model import BSA_FORMULAS, AgeBand, Protocol
from dosing.regimen.orders import amount_setting
from dosing.regimen.quantities import dose_quantity
from dosing.regimen.source import Source, default_directory, known_keys, table, tagged, text

TABLES = ("protocol", "verification", "bsa", "infant_fraction", "drugs", "age_tables", "rounding", "products", "fluid",
          "infusion_volumes", "dates", "warnings", "pathway", "anthracyclines")


def load_protocol(directory: Path | None = None, name: str = "all-baby-2021") -> Protocol:
    root = Path(directory) if directory is not None else default_directory()
    return cached_protocol(root.resolve(), name)


@cache
def cached_protocol(root: Path, name: str) -> Protocol:
    drugs = load_drugs(Source(root / "drugs.toml"))
    source = Source(root / name / "protocol.toml")
    data = source.data
    known_keys(source, data, TABLES, None, "the file")
    head_line = source.header_line("[protocol]")
    head = table(source, data, "protocol", None)
    known_keys(source, head, ("name", "registry", "version", "phases"), head_line, "[protocol]")
    phases = head.get("phases")
    if not isinstance(phases, list) or not all(isinstance(p, str) and re.fullmatch(r"[A-Za-z0-9_]+", p) for p in phases):
        raise source.error(source.key_line("phases", head_line), "phases must be a list of phase names")

    bsa_line = source.header_line("[bsa]")
    bsa = tagged(source, table(source, data, "bsa", None), "formula", bsa_line, "BSA formula")
    if bsa.value not in BSA_FORMULAS:
        raise source.error(source.key_line("formula", bsa_line), f"unknown BSA formula {bsa.value!r}; use one of {', '.join(BSA_FORMULAS)}")

    fraction_line = source.header_line("[infant_fraction]")
    fraction = tagged(source, table(source, data, "infant_fraction", None), "bands", fraction_line, "infant age fraction")
    fraction = attrs.evolve(fraction, value=_fraction_bands(source, fraction.value, source.key_line("bands", fraction_line)))

    verification = data.get("verification")
    if verification is not None:
        line = source.header_line("[verification]")
        known_keys(source, verification, ("by", "date", "protocol_version"), line, "[verification]")
        if not all(verification.get(k) for k in ("by", "date", "protocol_version")):
            raise source.error(line, "verification needs by, date and protocol_version: who checked, when, against which protocol version")

    drug_settings = {}
    for drug, entries in table(source, data, "drugs", None, required=False).items():
        line = source.header_line(f"[drugs.{drug}]")
        if drug not in drugs:
            raise source.error(line, f"unknown drug {drug!r}")
        known_keys(source, entries, ("cap", "rounding"), line, f"[drugs.{drug}]")
        drug_settings[drug] = {key: amount_setting(source, entries, key, line, drugs[drug]) for key in ("cap", "rounding") if key in entries}

    tables = {}
    for table_name, entries in table(source, data, "age_tables", None, required=False).items():
        line = source.header_line(f"[age_tables.{table_name}]")
        known_keys(source, entries, ("dose",), line, f"[age_tables.{table_name}]")
        value = tagged(source, entries, "dose", line, "INTRATHECAL age table")
        tables[table_name] = (_age_bands(source, value.value, source.key_line("dose", line)), value)

    protocol = Protocol(
        name=text(source, head, "name", head_line),
        registry=text(source, head, "registry", head_line),
        version=text(source, head, "version", head_line),
        phases=tuple(phases),
        bsa_formula=bsa,
        infant_fraction=fraction,
        verification=verification,
        directory=root / name,
        drugs=drugs,
        drug_settings=drug_settings,
        age_tables=tables,
        **settings.measuring(source, data, drugs, bsa_line),
        **settings.warnings(source, data),
    )
    return attrs.evolve(protocol, pathway=settings.pathway(source, data, protocol.phases),
                        anthracyclines=settings.anthracyclines(source, data, drugs),
                        start_criteria=load_start_criteria(root / name / "results.toml", protocol.phases))


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
            dose = grammar.dose(entry["dose"])
        except ValueError:
            dose = None
        if dose is None or dose.per or dose.per_day:
            raise source.error(line, f"age-band dose {entry['dose']!r} must be a fixed amount such as \"6 mg\"")
        bands.append(AgeBand(from_months=start, dose=dose_quantity(dose), text=entry["dose"]))
    if bands[0].from_months != 0:
        raise source.error(line, "the first age band must start at from_months = 0")
    return tuple(bands)
