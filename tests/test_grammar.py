"""The regimen loader's grammar over regimens/grammar-examples.toml, the table every reader of the data must agree on.

Each [[dose]] reads to exactly its amount, unit, per and per_day; each
[[refused]] is refused with a message; the same for [[days]] and
[[refused_days]]. Then the same strings through the loader itself, in a
regimen file, so what the table says is what a centre's data gets.
"""

import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

from dosing.errors import RegimenError
from dosing.regimen import grammar, load_phase, load_protocol, parse_dose
from conftest import centre_regimens

TABLE = tomllib.loads((Path(__file__).resolve().parent.parent / "regimens" / "grammar-examples.toml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("row", TABLE["dose"], ids=[r["text"] for r in TABLE["dose"]])
def test_every_dose_reads_as_the_table_says(row):
    dose = grammar.dose(row["text"])
    assert (dose.amount, dose.unit, dose.per, dose.per_day) == (Decimal(row["amount"]), row["unit"], row["per"], row["per_day"])


@pytest.mark.parametrize("row", TABLE["refused"], ids=[r["text"] for r in TABLE["refused"]])
def test_every_refused_dose_is_refused_with_a_reason(row):
    with pytest.raises(ValueError) as refused:
        grammar.dose(row["text"])
    assert len(str(refused.value)) > 10


@pytest.mark.parametrize("row", TABLE["days"], ids=[r["text"] for r in TABLE["days"]])
def test_every_days_string_reads_as_the_table_says(row):
    assert grammar.days(row["text"], row["length"]) == tuple(row["days"])


@pytest.mark.parametrize("row", TABLE["refused_days"], ids=[r["text"] for r in TABLE["refused_days"]])
def test_every_refused_days_string_is_refused(row):
    with pytest.raises(ValueError):
        grammar.days(row["text"], row["length"])


def test_the_table_covers_the_issue_examples():
    written = {r["text"] for r in TABLE["dose"]}
    assert {"30 mg/m²", "30 mg/m2", "30mg/m2", "15 mcg/m2/day"} <= written
    assert {"1e3 mg", "0 mg", "-1 mg", "30 µg/m2", "30 g/m2"} <= {r["text"] for r in TABLE["refused"]}


def test_the_engine_quantity_is_the_grammar_amount():
    # What the engine computes with is the table's amount in pint's spelling of the unit.
    assert parse_dose("30mg/m2").m_as("mg/m**2") == 30
    assert parse_dose("15 mcg/m²/day").m_as("mcg/m**2/day") == 15
    assert parse_dose(".5 mg").m_as("mg") == 0.5


def test_days_as_a_toml_list_read_alike():
    assert grammar.days([8, 15, 22], 36) == grammar.days("8, 15, 22", 36) == (8, 15, 22)


# The loader reads the same strings in a regimen file: daunorubicin's dose in induction.toml.
DAUNORUBICIN = 'dose = { value = "30 mg/m2", tag = "P", source = "docs/reference.md §3: Interfant-99" }'


@pytest.mark.parametrize("row", [r for r in TABLE["dose"] if r["unit"] == "mg" and r["per"] == "m2" and not r["per_day"]],
                         ids=lambda r: r["text"])
def test_the_loader_reads_each_dose_in_a_file(tmp_path, row):
    copy = centre_regimens(tmp_path, "all-baby-2021/induction.toml", DAUNORUBICIN, DAUNORUBICIN.replace("30 mg/m2", row["text"]))
    order = next(o for o in load_phase(load_protocol(copy), "induction").orders if o.drug.name == "daunorubicin")
    assert order.steps[0].basis.m_as("mg/m**2") == float(row["amount"])


@pytest.mark.parametrize("row", TABLE["refused"], ids=[r["text"] for r in TABLE["refused"]])
def test_the_loader_refuses_each_refused_dose_with_file_and_line(tmp_path, row):
    copy = centre_regimens(tmp_path, "all-baby-2021/induction.toml", DAUNORUBICIN, DAUNORUBICIN.replace("30 mg/m2", row["text"]))
    with pytest.raises(RegimenError) as refused:
        load_phase(load_protocol(copy), "induction")
    assert refused.value.path.name == "induction.toml"
    assert (copy / "all-baby-2021" / "induction.toml").read_text().splitlines()[refused.value.line - 1].startswith("dose = ")


# Both readers, over strings the table does not list: built from the pieces a pharmacist types
# (a number, spaces, a unit, per m² or kg, per day) and from pieces that are not the grammar.
# Whatever one reader makes of a string, the other makes the same, or both refuse it.
from hypothesis import given, settings, strategies as st  # noqa: E402

from dosing.second_check import reader as second_reader  # noqa: E402

_NUMBER = st.one_of(st.decimals(min_value=0, max_value=100000, places=3, allow_nan=False).map(str),
                    st.sampled_from(["0", ".5", "1.", "1e3", "-2", "+3", "1,5", "2 000", "٣"]))
_SPACE = st.sampled_from(["", " ", "  ", "\t"])
_UNIT = st.sampled_from(["mg", "mcg", "units", "g", "µg", "ug", "mL", "MG", "unit", "IU"])
_PER = st.sampled_from(["", "/m2", "/m²", "/ m2", "/kg", "/m3", "/m^2", "/kg/m2", "/m2/kg", "per m2"])
_DAY = st.sampled_from(["", "/day", "/d", "/week", " /day", "/24h"])


def _reading(read, text):
    try:
        dose = read(text)
    except ValueError:  # both readers refuse with a ValueError (the second check's Unreadable is one)
        return "refused"
    return (dose.amount, dose.unit, dose.per, dose.per_day)


@settings(max_examples=400, deadline=None)
@given(number=_NUMBER, gap=_SPACE, unit=_UNIT, per=_PER, day=_DAY, tail=st.sampled_from(["", " ", " IV", "!"]))
def test_the_loader_and_the_second_check_read_every_dose_string_alike(number, gap, unit, per, day, tail):
    text = f"{number}{gap}{unit}{per}{day}{tail}"
    assert _reading(grammar.dose, text) == _reading(second_reader.dose, text)


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet="0123456789-, every daysfrom", max_size=24), length=st.integers(1, 60))
def test_the_loader_and_the_second_check_read_every_days_string_alike(text, length):
    def reading(read):
        try:
            return tuple(read(text, length))
        except ValueError:
            return "refused"

    assert reading(grammar.days) == reading(second_reader.days)
