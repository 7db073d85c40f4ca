"""results.toml [schwartz]: the bedside Schwartz constant k by age, loaded and checked.

    [schwartz]
    first_month = { value = 0.31, tag = "P", source = "docs/reference.md §12: ..." }     # under 1 month
    under_one_year = { value = 0.413, tag = "?", source = "..." }                         # 1-11 months
    from_one_year = { value = 0.413, tag = "P", source = "..." }                          # 12 months on

The bands are fixed by the keys (completed months of age on the day the
creatinine was taken); dosing.results.estimated_gfr chooses one and works
out the eGFR. A `?` k is printed with its estimate marked approximate.
"""

from functools import cache
from pathlib import Path

import attrs

from dosing.regimen.model import Value
from dosing.regimen.source import Source, known_keys, tagged

# Each key and the completed months of age below which it applies (None: from then on).
BANDS = (("first_month", 1), ("under_one_year", 12), ("from_one_year", None))


@attrs.frozen
class Schwartz:
    """The three constants, each a Value whose value is k (a float)."""

    first_month: Value
    under_one_year: Value
    from_one_year: Value

    def k_at(self, age_months: int) -> Value:
        """The k for an infant of `age_months` completed months."""
        for key, below in BANDS:
            if below is None or age_months < below:
                return getattr(self, key)
        raise AssertionError("unreachable: the last band has no upper age")


def load_schwartz(path: Path) -> Schwartz | None:
    """results.toml's [schwartz], or None when the file or the table is absent (an older regimen folder)."""
    return _load(Path(path).resolve()) if Path(path).is_file() else None


@cache
def _load(path: Path) -> Schwartz | None:
    source = Source(path)
    if "schwartz" not in source.data:
        return None
    entries = source.data["schwartz"]
    line = source.header_line("[schwartz]")
    if not isinstance(entries, dict):
        raise source.error(line, "[schwartz] must be a table of first_month, under_one_year and from_one_year")
    keys = tuple(key for key, _ in BANDS)
    known_keys(source, entries, keys, line, "[schwartz]")
    found = {}
    for key in keys:
        value = tagged(source, entries, key, line, "bedside Schwartz k")
        k = value.value
        if isinstance(k, bool) or not isinstance(k, (int, float)) or not 0.1 <= k <= 1:
            raise source.error(source.key_line(key, line), f"{key}: k is a number from 0.1 to 1 (bedside Schwartz: 0.413), got {k!r}")
        found[key] = attrs.evolve(value, value=float(k))
    return Schwartz(**found)
