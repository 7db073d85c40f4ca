"""regimens/terminology.toml: the public codes the FHIR documents carry, read and checked.

The codes are regimen data (each with its tag and source), never constants in
the program: a centre corrects a code in its copy of the regimens, and the
program refuses a file that leaves a drug, a route or a unit without one.
Plain tomllib and attrs: reading the codes does not load fhir.resources.
"""

import attrs

from dosing.errors import RegimenError
from dosing.regimen.model import ROUTES, TAGS
from dosing.regimen.source import Source

FILE_NAME = "terminology.toml"
# The units a dose is written in (drugs.toml), and the measurements' units, each needing its UCUM code.
UNITS = ("mg", "mcg", "units", "mL", "m2", "kg", "cm")
# The dose rules dosing.schedule gives an administration, each needing its mCODE normalisation basis.
RULES = ("BSA", "weight", "label weight rule", "fixed", "age band")
FIELDS = ("system", "code", "display", "tag", "source")


@attrs.frozen
class Code:
    system: str  #: the terminology's FHIR URI
    code: str
    display: str  #: the terminology's name for it (for a unit: the word the sheets print)
    tag: str  #: S, P, A or ?: "?" is a code not confirmed, never sent as a coding
    source: str  #: where a reader checks it

    @property
    def confirmed(self) -> bool:
        return self.tag != "?"

    def coding(self) -> dict:
        return {"system": self.system, "code": self.code, "display": self.display}


@attrs.frozen
class Terminology:
    drugs: dict  #: drug name -> {"rxnorm": Code, "snomed": Code (where given)}
    routes: dict  #: route (PO, IV, ...) -> SNOMED CT Code
    units: dict  #: unit as the regimens write it -> UCUM Code
    weight: Code  #: LOINC body weight
    length: Code  #: LOINC body length (height)
    category: Code  #: the observations' category (vital signs)
    normalization_url: str  #: the mCODE extension's URL
    rules: dict  #: dose rule -> SNOMED CT Code of NormalizationBasisVS

    def drug_codings(self, drug: str) -> list[dict]:
        """The confirmed codings of a drug (RxNorm first): a "?" code is left out, so no system matches on it."""
        codes = self.drugs[drug]
        return [codes[k].coding() for k in ("rxnorm", "snomed") if k in codes and codes[k].confirmed]


def load_terminology(regimens, drug_names) -> Terminology:
    """terminology.toml of the regimens folder `regimens`, checked against the drugs of drugs.toml (`drug_names`)."""
    source = Source(regimens / FILE_NAME)
    data = source.data
    drugs = _section(source, data, "drugs")
    missing = [name for name in drug_names if name not in drugs]
    if missing:
        raise RegimenError(source.path, None, f"no code for the drug{'s' if len(missing) > 1 else ''} {', '.join(missing)} of drugs.toml; "
                           f"add [drugs.{missing[0]}] with rxnorm = {{ system, code, display, tag, source }}")
    read_drugs = {}
    for name, entry in drugs.items():
        if "rxnorm" not in entry:
            raise source.error(source.header_line(f"[drugs.{name}]"), f"[drugs.{name}] needs rxnorm = {{ system, code, display, tag, source }}")
        read_drugs[name] = {key: _code(source, value, f"drugs.{name}.{key}") for key, value in entry.items()}
    routes = _each(source, data, "routes", ROUTES, "snomed")
    units = _each(source, data, "units", UNITS, "ucum")
    observations = _section(source, data, "observations")
    for key, kind in (("weight", "loinc"), ("length", "loinc"), ("category", "fhir")):
        if kind not in observations.get(key, {}):
            raise RegimenError(source.path, source.header_line(f"[observations.{key}]"), f"[observations.{key}] needs {kind} = {{ {', '.join(FIELDS)} }}")
    normalization = _section(source, data, "normalization")
    extension = normalization.get("extension")
    if not isinstance(extension, dict) or not all(isinstance(extension.get(k), str) for k in ("value", "tag", "source")):
        raise RegimenError(source.path, source.key_line("extension", source.header_line("[normalization]")),
                           "normalization.extension must be { value = URL, tag, source }")
    rules = normalization.get("rules", {})
    missing = [rule for rule in RULES if rule not in rules]
    if missing:
        raise RegimenError(source.path, source.header_line("[normalization.rules]"),
                           f"no normalisation basis for the dose rule {missing[0]!r}; add it to [normalization.rules]")
    return Terminology(
        drugs=read_drugs, routes=routes, units=units,
        weight=_code(source, observations["weight"]["loinc"], "observations.weight.loinc"),
        length=_code(source, observations["length"]["loinc"], "observations.length.loinc"),
        category=_code(source, observations["category"]["fhir"], "observations.category.fhir"),
        normalization_url=extension["value"],
        rules={rule: _code(source, rules[rule], f"normalization.rules.{rule}") for rule in RULES},
    )


def _section(source, data: dict, key: str) -> dict:
    value = data.get(key)
    if not isinstance(value, dict):
        raise RegimenError(source.path, None, f"[{key}] is missing; see regimens/SCHEMA.md, terminology.toml")
    return value


def _each(source, data: dict, section: str, required, kind: str) -> dict:
    entries = _section(source, data, section)
    missing = [key for key in required if kind not in entries.get(key, {})]
    if missing:
        raise RegimenError(source.path, None, f"no {kind} code for {section} {missing[0]}; add [{section}.{missing[0]}] with {kind} = "
                           f"{{ {', '.join(FIELDS)} }}")
    return {key: _code(source, entries[key][kind], f"{section}.{key}.{kind}") for key in required}


def _code(source, entry, where: str) -> Code:
    """One { system, code, display, tag, source }, every field present and the tag one of S, P, A, ?."""
    if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) and entry[k].strip() for k in FIELDS):
        raise RegimenError(source.path, None, f"{where} must be {{ {', '.join(FIELDS)} }}, each a non-empty text")
    if set(entry) - set(FIELDS):
        raise RegimenError(source.path, None, f"{where}: {', '.join(sorted(set(entry) - set(FIELDS)))} is not a field; known: {', '.join(FIELDS)}")
    if entry["tag"] not in TAGS:
        raise RegimenError(source.path, None, f"{where}: tag must be one of {', '.join(TAGS)}, got {entry['tag']!r}")
    return Code(**{k: entry[k] for k in FIELDS})
