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
    ({"patient": {"birth_date": "2026-06-01"}}, "patient.birth_date", "dates"),
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


# -- implausible input that used to pass (issue 12, item 8) ---------------------------------------------------------------
# BASE_PATIENT in conftest.py: a girl born 2026-02-10, diagnosed 2026-05-04, measured 2026-05-04 (83 days) at 6.2 kg, 63 cm.

def refusal(patient_file, **change) -> InputError:
    with pytest.raises(InputError) as refused:
        load(patient_file(**change))
    return refused.value


@pytest.mark.parametrize("birth, diagnosis, measured, field", [
    # Born 1900-01-01, diagnosed at 59 days (1900-03-01): the age at diagnosis passes; the measurement of
    # 2026-05-04 is 46144 days after birth (126 years), far past the 1093 days a child on the protocol can be.
    ("1900-01-01", "1900-03-01", "2026-05-04", "measurements[1].date"),
    # The same slip the other way: born 2026, measured in 2126.
    ("2026-02-10", "2026-05-04", "2126-05-04", "measurements[1].date"),
])
def test_a_measurement_too_long_after_birth_is_refused(patient_file, birth, diagnosis, measured, field):
    error = refusal(patient_file, patient={"birth_date": birth, "diagnosis_date": diagnosis},
                    measurements=[{"date": measured, "weight": "6.2 kg", "length": "63 cm"}])
    assert error.field == field
    assert "at most 1093 days old" in error.problem and "birth date" in error.fix


def test_the_oldest_measurement_day_is_accepted_the_next_refused(patient_file):
    # 365 days at diagnosis + 104 weeks (728 days) of treatment = 1093 days. Born 2026-02-10:
    # +365 = 2027-02-10, +365 = 2028-02-10, +363 = 2029-02-07 (2028-02-29 is inside the last stretch, so 365 + 365 + 363 = 1093).
    measured = lambda day: [{"date": "2026-05-04", "weight": "6.2 kg", "length": "63 cm"},  # noqa: E731
                            {"date": day, "weight": "13 kg", "length": "92 cm"}]
    patient = load(patient_file(measurements=measured("2029-02-07")))
    assert (patient.measurements[1].date - patient.birth_date).days == 1093
    error = refusal(patient_file, measurements=measured("2029-02-08"))
    assert error.field == "measurements[2].date" and "2029-02-08 is 1094 days after the birth date 2026-02-10" in error.problem


def test_an_anthracycline_dose_too_long_after_birth_is_refused(patient_file):
    error = refusal(patient_file, anthracyclines=[{"date": "2036-05-04", "drug": "daunorubicin", "amount": "6.6 mg"}])
    assert error.field == "anthracyclines[1].date" and "at most 1093 days old" in error.problem


def test_a_birth_date_after_diagnosis_is_refused_and_on_the_day_accepted(patient_file):
    # A birth date in the future is one after the diagnosis date (which is on or before every phase start), or
    # after a measurement; the program does not compare dates with the computer's clock.
    error = refusal(patient_file, patient={"birth_date": "2026-05-05"})
    assert error.field == "patient.birth_date"
    assert error.problem == "2026-05-05 is after the diagnosis date 2026-05-04"
    # Born and diagnosed on 2026-05-04 (congenital leukaemia), measured that day at a newborn's 3.3 kg and 50 cm.
    patient = load(patient_file(patient={"birth_date": "2026-05-04"},
                                measurements=[{"date": "2026-05-04", "weight": "3.3 kg", "length": "50 cm"}]))
    assert patient.birth_date == patient.diagnosis_date
    # A measurement dated before birth is refused, as before.
    error = refusal(patient_file, patient={"birth_date": "2026-05-04"},
                    measurements=[{"date": "2026-05-03", "weight": "3.3 kg", "length": "50 cm"}])
    assert error.field == "measurements[1].date" and "before the birth date" in error.problem


# WHO weight-for-age, girls, at 83 days (the BASE_PATIENT's age): L 0.0542, M 5.6662 kg, S 0.12702.
#   the weight at z: M × (1 + L × S × z)^(1/L); at z 2: 7.2923 kg, at z 3: 8.2623 kg.
#   Beyond +3 WHO counts in 2-to-3 SD gaps of 8.2623 - 7.2923 = 0.9699 kg:
#   10.20 kg: z = 3 + (10.20 - 8.2623) / 0.9699 = 4.998 (a warning: above the 99.9th centile, not a stop);
#   10.21 kg: z = 3 + (10.21 - 8.2623) / 0.9699 = 5.008 (past +5: refused).
# WHO length-for-age, girls, at 83 days: L 1, M 59.1066 cm, S 0.03531, so 1 SD = 59.1066 × 0.03531 = 2.0871 cm:
#   71.6 cm: z = (71.6 - 59.1066) / 2.0871 = 5.986 (warning); 71.7 cm: z = 6.034 (past +6: refused).

@pytest.mark.parametrize("weight, length, refused_field, says", [
    ("10.2 kg", "63 cm", None, None),
    ("10.21 kg", "63 cm", "measurements[1].weight", "10.21 kg is not possible for a 2-month-old (WHO z +5.01)"),
    ("6.2 kg", "71.6 cm", None, None),
    ("6.2 kg", "71.7 cm", "measurements[1].length", "71.7 cm is not possible for a 2-month-old (WHO z +6.03)"),
    ("6.2 kg", "717 mm", "measurements[1].length", "71.7 cm is not possible for a 2-month-old (WHO z +6.03)"),
])
def test_far_above_the_who_standard_is_refused(patient_file, weight, length, refused_field, says):
    change = {"measurements": [{"date": "2026-05-04", "weight": weight, "length": length}]}
    if refused_field is None:
        assert load(patient_file(**change)).measurements[0].weight.m_as("kg") == float(weight.split()[0])
        return
    error = refusal(patient_file, **change)
    assert error.field == refused_field
    assert error.fix == f"check the number and its unit; {says}"


def test_pounds_for_a_four_month_old_are_refused_with_the_z_score(run, tmp_path):
    # examples/standard-risk.toml: a boy born 2026-01-20, measured 2026-05-29 (129 days, 4 months), 62 cm.
    # "62 lb" = 62 × 0.45359237 = 28.12 kg: inside the 0.3-30 kg bound, but WHO weight-for-age z +21
    # (boys at 129 days: M 6.9 kg, the 2-to-3 SD gap about 1 kg), which would dose on a BSA of
    # √(62 × 28.12 / 3600) = 0.70 m² instead of √(62 × 6.4 / 3600) = 0.33 m².
    from conftest import EXAMPLES

    path = tmp_path / "p.toml"
    path.write_text((EXAMPLES / "standard-risk.toml").read_text().replace('weight = "6.4 kg"', 'weight = "62 lb"'))
    status, out, err = run("sheet", path, "--phase", "induction", "--start", "2026-06-01", "--format", "json")
    assert status == 3 and out == ""
    assert "measurements[1].weight: 62 lb (28.1 kg) is far above the WHO weight-for-age standard for a boy of 129 days: z +21" in err
    assert "check the number and its unit; 28.1 kg is not possible for a 4-month-old (WHO z +21)" in err


def test_very_low_weight_is_a_warning_not_a_stop(patient_file):
    # 0.6 kg at 83 days is z far below -6, but an infant born very early can weigh that: it loads (bounds.py says why),
    # and the growth finding prints its centile on the sheet.
    from dosing.documents.wording import sentences
    from dosing.findings import growth_findings

    patient = load(patient_file(measurements=[{"date": "2026-05-04", "weight": "0.6 kg", "length": "33 cm"}]))
    (weight, length) = sentences(growth_findings(patient, patient.measurements[0]))
    assert weight.startswith("Weight 0.6 kg on 04 May 2026 is at the") and "below the 0.1st" in weight
    assert length.startswith("Length 33 cm") and "below the 0.1st" in length


@pytest.mark.parametrize("second, used_kg", [
    ({"date": "2026-05-04", "weight": "6.4 kg", "length": "63 cm"}, None),     # another weight the same day: refused
    ({"date": "2026-05-04", "weight": "6.2 kg", "length": "64 cm"}, None),     # another length the same day: refused
    ({"date": "2026-05-04", "weight": "6200 g", "length": "630 mm"}, 6.2),     # the same measurement in other units
    ({"date": "2026-05-05", "weight": "6.4 kg", "length": "63 cm"}, 6.4),      # the next day: the newest is used
])
def test_two_measurements_on_one_date(patient_file, second, used_kg):
    measurements = [{"date": "2026-05-04", "weight": "6.2 kg", "length": "63 cm"}, second]
    if used_kg is not None:
        patient = load(patient_file(measurements=measurements))
        assert patient.measurement_on(date(2026, 5, 5)).weight.m_as("kg") == pytest.approx(used_kg)
        return
    error = refusal(patient_file, measurements=measurements)
    assert error.field == "measurements[2].date"
    assert "2026-05-04 is also the date of measurements[1], with a different weight or length" in error.problem
    assert "keep one measurement for that date" in error.fix


@pytest.mark.parametrize("start, refused", [
    ("2026-05-05", True),    # dated on day 1 of this phase: this phase's own dose, or a wrong date
    ("2026-05-06", False),   # dated the day before day 1: given before this phase, counted in "before"
])
def test_an_anthracycline_dose_on_or_after_the_phase_start_is_refused(run, patient_file, start, refused):
    path = patient_file(anthracyclines=[{"date": "2026-05-05", "drug": "daunorubicin", "amount": "6.6 mg"}])
    status, out, err = run("sheet", path, "--phase", "induction", "--start", start, "--format", "json")
    if refused:
        assert status == 3 and out == ""
        assert ("anthracyclines[1].date: 2026-05-05 is on or after day 1 of this phase (2026-05-05)" in err
                and "remove it if it is a dose of this phase, or correct its date" in err)
        return
    # 6.6 mg of DAUNOrubicin on 2026-05-05, after the only measurement (6.2 kg): 6.6 / 6.2 = 1.0645 mg/kg before.
    import json

    assert status == 0, err
    assert json.loads(out)["anthracyclines"]["before"]["mg_per_kg"] == pytest.approx(6.6 / 6.2, abs=1e-3)


@pytest.mark.parametrize("field, change, character", [
    ("patient.id", {"patient": {"id": "MRN-\u202e100001"}}, "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("patient.id", {"patient": {"id": "MRN-1000\u200b01"}}, "U+200B ZERO WIDTH SPACE"),
    ("patient.name", {"patient": {"name": "Petrov,\u200f Mikhail"}}, "U+200F RIGHT-TO-LEFT MARK"),
    ("patient.name", {"patient": {"name": "\ufeffPetrov, Mikhail"}}, "U+FEFF ZERO WIDTH NO-BREAK SPACE"),
    ("patient.name", {"patient": {"name": "Petrov, \u2066Mikhail\u2069"}}, "U+2066 LEFT-TO-RIGHT ISOLATE"),
    ("patient.name", {"patient": {"name": "Petrov, Mi\u00adkhail"}}, "U+00AD SOFT HYPHEN"),
    ("patient.name", {"patient": {"name": "Petrov, Mikhail\u2028"}}, "U+2028 LINE SEPARATOR"),
    ("patient.allergies", {"patient": {"allergies": ["penicillin", "co-tri\u200dmoxazole"]}}, "U+200D ZERO WIDTH JOINER"),
    ("patient.allergies", {"patient": {"allergies": ["penicillin\x7f"]}}, "U+007F"),
])
def test_invisible_characters_are_refused(patient_file, field, change, character):
    error = refusal(patient_file, **change)
    assert error.field == field
    assert character in error.problem and "retype it" in error.fix


def test_names_in_any_script_are_accepted(patient_file):
    # Letters of right-to-left scripts are ordinary text; only the invisible controls are refused.
    for name in ("Müller, Zoë", "Иванова, Анна", "حسن، علي", "כהן, נועה", "O'Brien-Núñez, Siobhán"):
        assert load(patient_file(patient={"name": name})).name == name
