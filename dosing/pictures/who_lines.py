"""The WHO centile lines the growth chart draws, as rcpchgrowth's public functions give them.

Nine lines, as the UK-WHO charts draw them: the 0.4th, 2nd, 9th, 25th, 50th,
75th, 91st, 98th and 99.6th centiles (rcpchgrowth's "cole-nine-centiles").
They are two thirds of a standard deviation apart (Cole 1994), so the gap
between any two neighbouring lines means the same change everywhere, and the
0.4th and 99.6th are the lines outside which the RCPCH asks for a child to be
reviewed. The reference is WHO 2006 from birth ("who"): the standard
dosing/growth.py checks each measurement against (UK-WHO would use UK90 birth
data for the first two weeks). Recumbent length to 2 years; from 2 years WHO
gives standing height, about 0.7 cm less, so the length lines step there.

rcpchgrowth's public functions import SciPy (about a second of CPU and 1.7 s
of wall time on this machine, on every command that made an order sheet), and
the lines depend on nothing but sex, age and the WHO tables. So they are
computed once, through `rcpchgrowth.measurement_from_sds`, by
`python -m dosing.pictures.who_lines`, and kept beside this module
(who_lines.json, with the rcpchgrowth version that made them); drawing reads
that file. tests/test_pictures_growth.py computes them again with the
installed rcpchgrowth and fails if any value differs, so a new rcpchgrowth
that changes a line is noticed, never drawn silently from old numbers.
"""

import json
from functools import cache
from pathlib import Path

FILE = Path(__file__).with_name("who_lines.json")
REFERENCE = "who"  # rcpchgrowth's WHO 2006 standard from birth
CENTILES = (0.4, 2, 9, 25, 50, 75, 91, 98, 99.6)  # rcpchgrowth COLE_TWO_THIRDS_SDS_NINE_CENTILE_COLLECTION
SDS = tuple(round(k * 2 / 3, 12) for k in range(-4, 5))  # the nine lines' z-scores: -8/3 to +8/3 in steps of 2/3
KINDS = {"weight": "weight", "length": "height"}  # our name: rcpchgrowth's measurement_method
SEXES = ("female", "male")
DAYS_PER_YEAR = 365.25  # rcpchgrowth's decimal age
# Ages drawn, in days from birth: weekly to 2 years (the curves bend most in the first
# months), then fortnightly to 3 years (bounds.PROTOCOL_AGE_MAX_DAYS = 1093). The last day
# of the infant (length) table and the first of the child (height) table are both kept,
# so the step at 2 years is drawn as a step, not a slope.
AGES_DAYS = tuple(sorted({*range(0, 731, 7), 730, *range(731, 1097, 14), 1096}))
LAST_LENGTH_DAY = 730  # who_infants.json ends here; who_children.json (standing height) starts at 731


def computed() -> dict:
    """Every line through rcpchgrowth's public measurement_from_sds (imports SciPy: only here and in the tests)."""
    import rcpchgrowth

    lines = {sex: {kind: [[rcpchgrowth.measurement_from_sds(REFERENCE, z, method, sex, days / DAYS_PER_YEAR) for days in AGES_DAYS]
                          for z in SDS] for kind, method in KINDS.items()} for sex in SEXES}
    return {"rcpchgrowth": rcpchgrowth.__version__, "reference": REFERENCE, "centiles": list(CENTILES), "sds": list(SDS),
            "ages_days": list(AGES_DAYS), "lines": lines}


@cache
def table() -> dict:
    """who_lines.json as written by `computed()`."""
    return json.loads(FILE.read_text(encoding="utf-8"))


def lines(sex: str, kind: str) -> list[tuple[float, list[tuple[int, float]]]]:
    """[(centile, [(age in days, value), ...]), ...] for "weight" (kg) or "length" (cm), lowest centile first."""
    data = table()
    ages = data["ages_days"]
    return [(centile, list(zip(ages, values))) for centile, values in zip(data["centiles"], data["lines"][sex][kind])]


def main() -> None:  # python -m dosing.pictures.who_lines: after an rcpchgrowth upgrade the test asks for
    FILE.write_text(json.dumps(computed(), separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {FILE}")


if __name__ == "__main__":
    main()
