"""substitutions.toml: a drug the pharmacist may choose instead of another (Erwinia asparaginase for pegaspargase)."""

from functools import cache
from pathlib import Path

import attrs

from dosing.errors import InputError
from dosing.regimen.model import Phase, Protocol, Substitution, Value
from dosing.regimen.orders import load_order
from dosing.regimen.source import Source, known_keys, tagged, text


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
            text(source, raw, key, line)
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
        new_orders.append(load_order(source, protocol, entry, line, max(length, days[-1])))
    last = max([length] + [o.days[-1] for o in new_orders])
    orders = tuple(o for o in phase.orders if o.drug.name != raw["replaces"]) + tuple(new_orders)
    extended = phase.length_days if last == length else Value(
        what="phase length", value=last, tag=after.tag,
        source=f"{phase.length_days.source}; runs on to the last {raw['drug']} dose of the substitution ({after.source})")
    changed = attrs.evolve(phase, orders=orders, length_days=extended)
    return changed, Substitution(name=name, replaces=raw["replaces"], answers=raw["for"], orders=tuple(new_orders), from_age_months=age)
