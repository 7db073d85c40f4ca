"""regimens/drugs.toml: the drugs the tool knows, with the provenance of each entry."""

from dosing.regimen.model import INTRATHECAL_CLASSES, ROUTES, Drug, Value
from dosing.regimen.source import Source, known_keys, provenance, text

FIELDS = ("print_name", "class", "routes", "unit", "label", "names", "provenance")


def load_drugs(source: Source) -> dict:
    drugs = {}
    for name, entry in source.data.items():
        line = source.header_line(f"[{name}]")
        if not isinstance(entry, dict):
            raise source.error(line, f"{name} must be a table")
        known_keys(source, entry, FIELDS, line, f"[{name}]")
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
            print_name=text(source, entry, "print_name", line),
            drug_class=text(source, entry, "class", line),
            routes=tuple(routes),
            unit=entry["unit"],
            label=text(source, entry, "label", line) if "label" in entry else None,
            names=tuple(other_names),
            provenance=_provenance(source, entry, name, line),
        )
        if "INTRATHECAL" in drug.routes and drug.drug_class not in INTRATHECAL_CLASSES:
            raise source.error(source.key_line("routes", line), f"{name} must never be given INTRATHECAL")
        drugs[name] = drug
    return drugs


def _provenance(source: Source, entry: dict, name: str, line) -> Value:
    """provenance = { tag = "P", source = "..." }: where the entry's printed name, label, class and routes come from."""
    at = source.key_line("provenance", line)
    raw = entry.get("provenance")
    if raw is None:
        raise source.error(line, f"[{name}] has no provenance: add provenance = {{ tag = \"P\", source = \"...\" }}")
    if not isinstance(raw, dict) or set(raw) - {"tag", "source"}:
        raise source.error(at, "provenance must be written { tag = \"S|P|A|?\", source = \"...\" }")
    provenance(source, raw, "provenance", at)
    return Value(what="drug entry", value=name, tag=raw["tag"], source=raw["source"])
