"""The patient file: what loads, and every kind of bad input refused with the field and the fix."""

from datetime import date

import pytest

from dosing.errors import InputError
from dosing.patient import load


def test_example_file_loads_with_units(patient_file):
    patient = load(patient_file())
    assert patient.id == "MRN-T0001"
    assert patient.birth_date == date(2026, 2, 10)
    assert patient.allergies == ()
    (measurement,) = patient.measurements
    assert measurement.weight.check("[mass]") and measurement.weight.m_as("kg") == 6.2
    assert measurement.length.check("[length]") and measurement.length.m_as("cm") == 63


def test_newest_measurement_on_or_before_the_start(patient_file):
    patient = load(patient_file(measurements=[
        {"date": "2026-05-04", "weight": "6.2 kg", "length": "63 cm"},
        {"date": "2026-05-10", "weight": "6.4 kg", "length": "63.5 cm"},
        {"date": "2026-05-20", "weight": "6.6 kg", "length": "64 cm"},
    ]))
    assert patient.measurement_on(date(2026, 5, 15)).weight.m_as("kg") == 6.4
    assert patient.measurement_on(date(2026, 5, 10)).weight.m_as("kg") == 6.4


def test_mrd_and_remission(patient_file):
    patient = load(patient_file(
        mrd=[{"timepoint": "day36", "value": "0.04 %", "method": "flow"},
             {"timepoint": "after_HR1", "result": "negative", "method": "PCR"}],
        remission=[{"timepoint": "day36", "in_remission": True}],
    ))
    assert patient.mrd[0].value.m_as("percent") == pytest.approx(0.04)
    assert patient.mrd[1].negative
    assert patient.remission[0].in_remission


BAD = [
    # (what changes, the field the error must name, words the fix must contain)
    ({"measurements": [{"date": "2026-05-04", "weight": 6.2, "length": "63 cm"}]}, "measurements[1].weight", '"6.2 kg"'),
    ({"measurements": [{"date": "2026-05-04", "weight": "6.2 cm", "length": "63 cm"}]}, "measurements[1].weight", "kg"),
    ({"measurements": [{"date": "2026-05-04", "weight": "6.2 kg", "length": "63 kg"}]}, "measurements[1].length", "cm"),
    ({"measurements": [{"date": "2026-05-04", "weight": "62 kg", "length": "63 cm"}]}, "measurements[1].weight", "unit"),
    ({"measurements": [{"date": "2026-05-04", "weight": "0.062 kg", "length": "63 cm"}]}, "measurements[1].weight", "unit"),
    ({"measurements": [{"date": "2026-05-04", "weight": "6.2 kg", "length": "630 cm"}]}, "measurements[1].length", "unit"),
    ({"measurements": [{"date": "2026-05-04", "weight": "-6 kg", "length": "63 cm"}]}, "measurements[1].weight", "kg"),
    ({"measurements": [{"date": "2026-05-04", "weight": "6.2 stones of", "length": "63 cm"}]}, "measurements[1].weight", "kg"),
    ({"measurements": [{"date": "2026-05-04", "length": "63 cm"}]}, "measurements[1].weight", "kg"),
    ({"measurements": [{"date": "2026-01-04", "weight": "6.2 kg", "length": "63 cm"}]}, "measurements[1].date", "date"),
    ({"measurements": [{"date": "04/05/2026", "weight": "6.2 kg", "length": "63 cm"}]}, "measurements[1].date", "2026-05-04"),
    ({"measurements": []}, "[[measurements]]", "add"),
    ({"patient": {"sex": "f"}}, "patient.sex", '"female"'),
    ({"disease": {"kmt2a": "positive"}}, "disease.kmt2a", '"rearranged"'),
    ({"disease": {"cns": "CNS 1"}}, "disease.cns", "CNS1"),
    ({"patient": {"birth_date": "2025-01-01"}}, "patient.diagnosis_date", "dates"),
    ({"patient": {"birth_date": "2026-06-01"}}, "patient.diagnosis_date", "dates"),
    ({"patient": {"id": ""}}, "patient.id", "MRN"),
    ({"patient": {"name": 12}}, "patient.name", "name ="),
    ({"patient": {"allergies": "none"}}, "patient.allergies", "allergies = []"),
    ({"patient": {"wieght": "6 kg"}}, "patient.wieght", "known fields"),
    ({"mrd": [{"timepoint": "day 36", "value": "0.1 %", "method": "flow"}]}, "mrd[1].timepoint", "day36"),
    ({"mrd": [{"timepoint": "day36", "value": 0.1, "method": "flow"}]}, "mrd[1].value", "%"),
    ({"mrd": [{"timepoint": "day36", "value": "0.1 mg", "method": "flow"}]}, "mrd[1].value", "%"),
    ({"remission": [{"timepoint": "day36", "in_remission": "yes"}]}, "remission[1].in_remission", "true"),
]


@pytest.mark.parametrize("change, field, fix", BAD, ids=[b[1] + ":" + str(i) for i, b in enumerate(BAD)])
def test_bad_input_names_field_and_fix(patient_file, change, field, fix):
    with pytest.raises(InputError) as refused:
        load(patient_file(**change))
    assert refused.value.field == field
    assert fix in str(refused.value)


def test_missing_allergies_is_refused_not_guessed(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text('[patient]\nid = "X1"\nname = "A, B"\nsex = "male"\nbirth_date = 2026-01-01\n'
                    'diagnosis_date = 2026-02-01\n[disease]\nkmt2a = "germline"\ncns = "CNS1"\n'
                    '[[measurements]]\ndate = 2026-02-01\nweight = "4 kg"\nlength = "54 cm"\n')
    with pytest.raises(InputError) as refused:
        load(path)
    assert refused.value.field == "patient.allergies"
    assert "allergies = []" in str(refused.value)


@pytest.mark.parametrize("text", ["not toml at all [", "\xff\xfe", ""])
def test_not_a_patient_file(tmp_path, text):
    path = tmp_path / "p.toml"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(InputError):
        load(path)


def test_cli_refuses_with_exit_3_no_traceback_no_sheet(run, patient_file, tmp_path):
    path = patient_file(measurements=[{"date": "2026-05-04", "weight": "6.2 cm", "length": "63 cm"}])
    out = tmp_path / "out"
    status, stdout, stderr = run("sheet", path, "--phase", "induction", "--start", "2026-05-05", "--out", out)
    assert status == 3
    assert "measurements[1].weight" in stderr and "Traceback" not in stderr
    assert not out.exists() or not any(out.iterdir())


def test_no_measurement_before_the_start(run, patient_file):
    path = patient_file(measurements=[{"date": "2026-05-10", "weight": "6.2 kg", "length": "63 cm"}])
    status, _, stderr = run("sheet", path, "--phase", "induction", "--start", "2026-05-05", "--format", "json")
    assert status == 3 and "measurements" in stderr and "on or before" in stderr


def test_start_before_diagnosis(run, patient_file):
    status, _, stderr = run("sheet", patient_file(), "--phase", "induction", "--start", "2026-05-01", "--format", "json")
    assert status == 3 and "--start" in stderr


def test_missing_patient_file(run, tmp_path):
    status, _, stderr = run("sheet", tmp_path / "nope.toml", "--phase", "induction", "--start", "2026-05-05")
    assert status == 3 and "no such file" in stderr


@pytest.mark.parametrize("args", [
    ["sheet", "p.toml", "--phase", "inductoin", "--start", "2026-05-05"],
    ["sheet", "p.toml", "--phase", "induction", "--start", "5 May 2026"],
    ["sheet", "p.toml", "--phase", "induction"],
    ["sheet", "p.toml", "--phase", "induction", "--start", "2026-05-05", "--format", "docx"],
])
def test_usage_errors_exit_2(run, args):
    status, _, stderr = run(*args)
    assert status == 2 and "usage" in stderr
