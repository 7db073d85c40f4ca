"""docs/safety.md's hard stops and warnings that other test files do not already pin, one test each.

Covered elsewhere: impossible weight and length, a wrong-kind unit, measurement
before birth, no measurement before the start, age at diagnosis (test_patient);
a malformed regimen (test_regimen); a zero dose (test_induction); a weekly drug
becoming daily (test_phases); a phase off the pathway (test_pathway); stale
measurements, age-band changes and rounding past 5 % (test_induction);
growth centiles (test_growth); weight change since the last sheet
(test_issue_log).
"""

import json
import shutil

import pytest

from conftest import ROOT


def sheet_json(run, path, *extra, start="2026-05-05", phase="induction"):
    return run("sheet", path, "--phase", phase, "--start", start, "--format", "json", *extra)


@pytest.mark.parametrize("missing, field", [
    ("length", "measurements[1].length"), ("weight", "measurements[1].weight"), ("date", "measurements[1].date"),
])
def test_missing_measurement_values(run, patient_file, missing, field):
    entry = {"date": "2026-05-04", "weight": "6.2 kg", "length": "63 cm"}
    del entry[missing]
    status, out, err = sheet_json(run, patient_file(measurements=[entry]))
    assert status == 3 and field in err and out == ""


def test_missing_date_of_birth(run, tmp_path):
    path = tmp_path / "p.toml"
    path.write_text('[patient]\nid = "X1"\nname = "A, B"\nsex = "male"\ndiagnosis_date = 2026-02-01\nallergies = []\n'
                    '[disease]\nkmt2a = "germline"\ncns = "CNS1"\n[[measurements]]\ndate = 2026-02-01\nweight = "4 kg"\nlength = "54 cm"\n')
    status, _, err = sheet_json(run, path, start="2026-02-02")
    assert status == 3 and "patient.birth_date: is missing" in err


def test_a_rounded_dose_above_its_cap_is_refused(run, patient_file, tmp_path):
    # vinCRIStine 1.5 × 0.32939 × 2/3 = 0.3294 mg, capped at a centre's 0.325 mg, rounds half up to 0.33 mg: above the cap.
    copy = tmp_path / "regimens"
    shutil.copytree(ROOT / "regimens", copy)
    path = copy / "all-baby-2021" / "protocol.toml"
    path.write_text(path.read_text().replace('cap = { value = "2 mg", tag = "P"', 'cap = { value = "0.325 mg", tag = "P"'))
    status, _, err = sheet_json(run, patient_file(), "--regimens", copy)
    assert status == 3 and "above the cap" in err


def anthracycline_patient(patient_file, doses):
    return patient_file(anthracyclines=[{"date": "2026-05-04", "drug": drug, "amount": amount} for drug, amount in doses])


def test_cumulative_anthracycline_past_10_mg_per_kg(run, patient_file):
    # 6.2 kg: 55 mg of DAUNOrubicin before = 8.87 mg/kg; induction adds 6.6 + 6.6 mg (30 × 0.32939 × 2/3 = 6.588 -> 6.6)
    # = 13.2 mg = 2.13 mg/kg; after = 11.0 mg/kg, past 10 mg/kg under 2 years.
    data = json.loads(sheet_json(run, anthracycline_patient(patient_file, [("daunorubicin", "55 mg")]))[1])
    totals = data["anthracyclines"]
    assert totals["before"]["mg_per_kg"] == pytest.approx(55 / 6.2, abs=1e-3)
    assert totals["this_phase"]["mg_per_kg"] == pytest.approx(13.2 / 6.2, abs=1e-3)
    assert totals["after"]["mg_per_kg"] == pytest.approx(68.2 / 6.2, abs=1e-3)
    assert any("past the 10 mg/kg" in w for w in data["warnings"])


def test_cumulative_anthracycline_past_300_mg_per_m2(run, patient_file):
    # 100 mg DOXOrubicin before at BSA √(63 × 6.2 / 3600) = 0.32939 m²: 303.6 mg/m², already past 300 in doxorubicin equivalents;
    # induction DAUNOrubicin 13.2 mg ÷ 0.32939 = 40.07 mg/m² × 0.6 = 24.04 more.
    data = json.loads(sheet_json(run, anthracycline_patient(patient_file, [("doxorubicin", "100 mg")]))[1])
    after = data["anthracyclines"]["after"]["doxorubicin_equivalent_mg_per_m2"]
    assert after == pytest.approx(100 / 0.329393 + 13.2 / 0.329393 * 0.6, abs=0.05)
    assert any("doxorubicin equivalents, past 300 mg/m²" in w for w in data["warnings"])


def test_no_anthracycline_no_totals(run, patient_file):
    weighed = [{"date": "2026-06-30", "weight": "6.2 kg", "length": "63 cm"}]  # a day-1 weight no older than 30 days
    data = json.loads(sheet_json(run, patient_file(measurements=weighed), phase="reinduction_1", start="2026-07-01",
                                 *["--override-pathway", "re-induction without anthracycline"])[1])
    assert "anthracyclines" not in data


def test_a_verified_regimen_has_no_banner(run, patient_file, tmp_path):
    copy = tmp_path / "regimens"
    shutil.copytree(ROOT / "regimens", copy)
    path = copy / "all-baby-2021" / "protocol.toml"
    path.write_text(path.read_text().replace("# [verification]\n# by = \"name, role\"\n# date = 2026-01-31\n# protocol_version = \"ALL-Baby-2021 v1.2\"",
                                             "[verification]\nby = \"A. Pharmacist, lead oncology pharmacist\"\ndate = 2026-11-01\nprotocol_version = \"ALL-Baby-2021 v1.2\""))
    data = json.loads(sheet_json(run, patient_file(), "--regimens", copy)[1])
    assert data["verified"] is True and not any("not been verified" in w for w in data["warnings"])
