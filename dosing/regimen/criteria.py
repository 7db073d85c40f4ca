"""results.toml [start_criteria.<phase>]: what the results must show before a phase's day 1, loaded and checked.

Each phase that has start criteria names the window its results are taken
from (`within_days` before day 1) and a list of criteria, one a line:

    [start_criteria.HR1]
    within_days = { value = 3, tag = "A", source = "docs/reference.md §12: ..." }
    criteria = [
      { test = "anc", above = "0.5 10^9/L", tag = "A", source = "docs/reference.md §12: ..." },
      { test = "alt", below = "?", note = "5 × the upper limit of normal for age", tag = "?", source = "..." },
    ]

A threshold the protocol does not publish is the placeholder "?" (tag "?"):
the sheet prints it as a blank the centre fills ("neutrophils above ___ ×
10⁹/L (centre to set)") and is a DRAFT until the centre sets it. The check
itself is dosing/criteria.py's.
"""

from functools import cache
from pathlib import Path

import attrs

from dosing.regimen import grammar
from dosing.regimen.model import Value
from dosing.regimen.source import Source, known_keys, provenance, read, tagged
from dosing.results import EGFR_UNIT

PLACEHOLDER = "?"

# The tests a criterion may name: what a sheet calls each, and the units a threshold may be written in
# (as the data writes them -> pint's name; the first is the one a placeholder is printed in).
COUNT = {"10^9/L": "billion_cells_per_liter"}
CONCENTRATION = {"umol/L": "umol/L", "µmol/L": "umol/L", "mg/dL": "mg/dL"}
TESTS = {
    "wbc": ("white cells", COUNT),
    "anc": ("neutrophils", COUNT),
    "platelets": ("platelets", COUNT),
    "creatinine": ("creatinine", CONCENTRATION),
    "bilirubin": ("bilirubin", CONCENTRATION),
    "alt": ("ALT", {"U/L": "enzyme_unit/L"}),  # pint's enzyme unit (IU), as dosing.units reads a [[labs]] ALT
    # Worked out, not measured: bedside Schwartz from the creatinine and the length (dosing.results.schwartz_egfr).
    "egfr": ("eGFR (bedside Schwartz)", {"mL/min/1.73m2": EGFR_UNIT}),
}
# How a threshold is compared: strictly (above, below) or including it (at_least, at_most).
COMPARISONS = ("above", "below", "at_least", "at_most")
# How the sheet prints a unit the data writes plainly.
# As a sheet prints them. ISMP: never "U" or "IU" on an order, where it is misread as 0, 4 or IV: "units".
PRINTED_UNITS = {"10^9/L": "× 10⁹/L", "umol/L": "µmol/L", "mL/min/1.73m2": "mL/min/1.73 m²", "U/L": "units/L",
                 "IU/L": "units/L", "U/mL": "units/mL"}
CRITERION_KEYS = ("test", *COMPARISONS, "note", "tag", "source")


@attrs.frozen
class Criterion:
    """One result a phase needs before day 1: a test, how it is compared and with what."""

    test: str  #: one of TESTS
    comparison: str  #: one of COMPARISONS
    limit: object | None  #: pint quantity; None for a placeholder the centre sets
    unit: str  #: the unit as the data writes it ("10^9/L"): the limit's, or the one a placeholder is printed in
    note: str | None  #: what the threshold stands for, printed ("5 × the upper limit of normal for age")
    value: Value  #: its tag and source (value: the threshold as written, "0.5 10^9/L" or "?")
    line: int | None = None

    @property
    def placeholder(self) -> bool:
        return self.limit is None

    @property
    def name(self) -> str:
        """What the sheet calls the test: "neutrophils"."""
        return TESTS[self.test][0]

    def met_by(self, quantity) -> bool:
        """Whether a result (pint quantity) meets the threshold. Never asked of a placeholder.

        The result is converted to the threshold's unit and compared at 10 significant digits, so a
        creatinine in mg/dL that equals a threshold in µmol/L is not decided by a conversion's last bit.
        """
        measured = float(f"{quantity.m_as(self.limit.units):.10g}")
        limit = self.limit.magnitude
        return {"above": measured > limit, "below": measured < limit,
                "at_least": measured >= limit, "at_most": measured <= limit}[self.comparison]


@attrs.frozen
class StartCriteria:
    """A phase's start criteria and the window its results are taken from."""

    phase: str
    within_days: Value  #: value: int, results taken at most this many days before day 1 (and up to day 1)
    criteria: tuple[Criterion, ...]

    @property
    def placeholders(self) -> tuple[Criterion, ...]:
        return tuple(c for c in self.criteria if c.placeholder)


def load_start_criteria(path: Path, phases) -> dict:
    """Each phase's StartCriteria from results.toml's [start_criteria] (no file or no table: none)."""
    return _load(Path(path), tuple(phases)) if Path(path).is_file() else {}


@cache
def _load(path: Path, phases: tuple) -> dict:
    source = Source(path)
    tables = source.data.get("start_criteria", {})
    if not isinstance(tables, dict):
        raise source.error(source.key_line("start_criteria", None), "start_criteria must be tables, one per phase: [start_criteria.HR1]")
    found = {}
    for phase, entries in tables.items():
        where = f"[start_criteria.{phase}]"
        line = source.header_line(where)
        if phase not in phases:
            raise source.error(line, f"{where}: the protocol has no phase {phase!r}; its phases: {', '.join(phases)}")
        if not isinstance(entries, dict):
            raise source.error(line, f"{where} must be a table")
        known_keys(source, entries, ("within_days", "criteria"), line, where)
        within = tagged(source, entries, "within_days", line, "days before day 1 a result may be taken")
        read(source, source.key_line("within_days", line), grammar.whole, within.value, 0, 60, f"{where} within_days (days)")
        listed = entries.get("criteria")
        at = source.key_line("criteria", line)
        if not isinstance(listed, list) or not listed:
            raise source.error(at, f'{where} criteria must be a list of {{ test = "anc", above = "0.5 10^9/L", tag = "A", source = "..." }}')
        criteria = tuple(_criterion(source, raw, _item_line(source, at, i), f"{where} criteria[{i + 1}]")
                         for i, raw in enumerate(listed))
        found[phase] = StartCriteria(phase=phase, within_days=within, criteria=criteria)
    return found


def _item_line(source, at, index: int) -> int | None:
    """The line of the list's index-th inline table: the index-th `{` after `criteria =` (one criterion a line)."""
    if at is None:
        return None
    seen = -1
    for n in range(at, len(source.lines) + 1):
        text = source.lines[n - 1]
        if n > at and text.lstrip().startswith("["):
            break
        seen += text.count("{")
        if seen >= index:
            return n
    return at


def _criterion(source, raw, line, where: str) -> Criterion:
    if not isinstance(raw, dict):
        raise source.error(line, f'{where} must be an inline table {{ test = "anc", above = "0.5 10^9/L", tag = "A", source = "..." }}')
    for key in raw:
        if key not in CRITERION_KEYS:
            raise source.error(line, f"{where}: {key!r} is not a field of a criterion; known: {', '.join(CRITERION_KEYS)}")
    test = raw.get("test")
    if test not in TESTS:
        raise source.error(line, f"{where}: test {test!r} is not one a criterion may name; use one of {', '.join(TESTS)}")
    compared = [key for key in COMPARISONS if key in raw]
    if len(compared) != 1:
        raise source.error(line, f"{where}: give exactly one of {', '.join(COMPARISONS)} (the threshold), e.g. above = \"0.5 10^9/L\"")
    comparison = compared[0]
    provenance(source, raw, where, line)
    written, units = raw[comparison], TESTS[test][1]
    note = raw.get("note")
    if note is not None and (not isinstance(note, str) or not note.strip()):
        raise source.error(line, f"{where}: note must be text (what the threshold stands for)")
    if written == PLACEHOLDER or raw["tag"] == PLACEHOLDER:
        # A placeholder is the blank the centre fills: never a number tagged "?", never "?" tagged as known.
        if written != PLACEHOLDER or raw["tag"] != PLACEHOLDER:
            raise source.error(line, f'{where}: a threshold nothing published gives is written {comparison} = "?" with tag = "?"; '
                                     "one the centre has set is a number with tag = \"A\"")
        limit, unit = None, next(iter(units))
    else:
        try:
            amount, unit = grammar.amount(written, units)
        except ValueError as exc:
            raise source.error(line, f"{where}: {comparison} = {written!r}: {exc}") from None
        from dosing.units import Q

        limit = Q(float(amount), units[unit])
    value = Value(what=f"start criterion: {TESTS[test][0]}", value=written, tag=raw["tag"], source=raw["source"])
    return Criterion(test=test, comparison=comparison, limit=limit, unit=unit, note=note, value=value, line=line)


def criterion_text(criterion: Criterion) -> str:
    """The criterion as the sheet prints it: "neutrophils above 0.5 × 10⁹/L", a placeholder as a blank."""
    from dosing.formatting import number

    unit = PRINTED_UNITS.get(criterion.unit, criterion.unit)
    how = criterion.comparison.replace("_", " ")
    if criterion.placeholder:
        said = f"{criterion.name} {how} ___ {unit} (centre to set"
        return said + (f": {criterion.note})" if criterion.note else ")")
    said = f"{criterion.name} {how} {number(criterion.limit.magnitude)} {unit}"
    return said + (f" ({criterion.note})" if criterion.note else "")


def written_unit(quantity) -> str:
    """The unit of a result or an eGFR as the data writes it ("10^9/L", "umol/L", "mL/min/1.73m2"), for the JSON orders."""
    from dosing.units import unit

    for units in (COUNT, CONCENTRATION, *(u for _, u in TESTS.values())):
        for written, name in units.items():
            if quantity.units == unit(name):
                return written
    return f"{quantity.units:~P}"


def measured_text(quantity) -> str:
    """A result or an eGFR as the sheet prints it, in the unit it came in: "0.8 × 10⁹/L", "35 µmol/L"."""
    from dosing.formatting import number

    written = written_unit(quantity)
    return f"{number(round(quantity.magnitude, 6))} {PRINTED_UNITS.get(written, written)}"
