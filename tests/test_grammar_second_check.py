"""The second check's own reader meets the written grammar: every string of regimens/grammar-examples.toml
reads to the same (amount, unit, per, per_day) or days, and every refused string is refused.

tests/test_grammar.py holds the regimen loader to the same table, so the two readers cannot drift apart.
"""

import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

from dosing.second_check import reader

TABLE = tomllib.loads((Path(__file__).resolve().parent.parent / "regimens" / "grammar-examples.toml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("example", TABLE["dose"], ids=[e["text"] for e in TABLE["dose"]])
def test_every_dose_reads_as_the_table_says(example):
    read = reader.dose(example["text"])
    assert (read.amount, read.unit, read.per, read.per_day) == (Decimal(example["amount"]), example["unit"], example["per"], example["per_day"])


@pytest.mark.parametrize("example", TABLE["refused"], ids=[e["text"] for e in TABLE["refused"]])
def test_every_refused_dose_is_refused(example):
    with pytest.raises(reader.Unreadable):
        reader.dose(example["text"])


@pytest.mark.parametrize("example", TABLE["days"], ids=[e["text"] for e in TABLE["days"]])
def test_every_days_string_reads_as_the_table_says(example):
    assert reader.days(example["text"], example["length"]) == example["days"]


@pytest.mark.parametrize("example", TABLE["refused_days"], ids=[e["text"] for e in TABLE["refused_days"]])
def test_every_refused_days_string_is_refused(example):
    with pytest.raises(reader.Unreadable):
        reader.days(example["text"], example["length"])


def test_the_table_is_not_empty():
    # A renamed array in the table would make every test above pass on nothing.
    assert len(TABLE["dose"]) >= 16 and len(TABLE["refused"]) >= 13 and len(TABLE["days"]) >= 6 and len(TABLE["refused_days"]) >= 5


@pytest.mark.parametrize("text,kg", [("6.2 kg", "6.2"), ("6200 g", "6.2"), ("6.2 KG", "6.2"), ("13.7 lb", "6.214215469"),
                                     ("13.7 lbs", "6.214215469"), ("100 oz", "2.8349523125"), (" .5 Kg ", "0.5")])
def test_a_weight_reads_in_every_unit_the_patient_file_allows(text, kg):
    # 13.7 lb × 0.45359237 kg/lb = 6.214215469 kg; 100 oz × 0.028349523125 kg/oz = 2.8349523125 kg
    assert reader.measure(text, reader.TO_KG, "weight") == Decimal(kg)


@pytest.mark.parametrize("text,cm", [("63 cm", "63"), ("630 mm", "63"), ("0.63 m", "63"), ("25 in", "63.5"), ("63 CM", "63")])
def test_a_length_reads_in_every_unit_the_patient_file_allows(text, cm):
    # 25 in × 2.54 cm/in = 63.5 cm
    assert reader.measure(text, reader.TO_CM, "length") == Decimal(cm)


@pytest.mark.parametrize("text", ["6.2", "6.2 stone", "6,2 kg", "6.2 kg;", "1e1 kg", "6 lb 4 oz", "63 cm", "0 kg", "-6.2 kg"])
def test_a_weight_the_patient_file_refuses_is_unreadable(text):
    with pytest.raises(reader.Unreadable):
        reader.measure(text, reader.TO_KG, "weight")
