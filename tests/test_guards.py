"""Issue 12's guards around the arithmetic: allergies, rounding within 10 %, working a
pharmacist can redo by hand, and fluid. Every figure is worked by hand in the comments.

The small infant used throughout: 2.4 kg, 47 cm, born 2026-04-20, induction from 2026-06-01.
BSA √(47 × 2.4 / 3600) = √0.0313333 = 0.177012 m², rounded half up to 0.0001 m²: 0.1770 m².
One month old on day 1 (20 May to 20 June), so 2/3 of the BSA dose throughout induction.
"""

from datetime import date

import pytest

from conftest import EXAMPLES, centre_regimens, given, orders_json
from dosing import allergies, fluid
from dosing.documents.wording import sentences
from dosing.formatting import calculated_text
from dosing.regimen import load_protocol
from dosing.units import Q

def small_infant(patient_file):
    return patient_file(patient={"birth_date": "2026-04-20", "diagnosis_date": "2026-05-28"},
                        measurements=[{"date": "2026-05-29", "weight": "2.4 kg", "length": "47 cm"}])


def centre_protocol(tmp_path, old, new):
    """A centre's copy of the regimen data with one setting of protocol.toml changed."""
    return centre_regimens(tmp_path, "all-baby-2021/protocol.toml", old, new)


# -- 4. Working a pharmacist can redo by hand ----------------------------------------


def test_bsa_used_is_the_bsa_printed(run, patient_file):
    data = orders_json(run, small_infant(patient_file), "2026-06-01")
    # √(47 × 2.4 / 3600) = 0.177012 -> 0.1770 m² (half up to 0.0001 m²), the figure every dose uses
    assert data["bsa_m2"] == 0.177
    # vinCRIStine day 8: 1.5 × 0.177 × 2/3 = 0.177 mg -> 0.18 mg (the 0.01 mg step)
    assert given(data, "vincristine", "IV", 8)["dose"] == 0.18 and given(data, "vincristine", "IV", 8)["calculated"] == 0.177


@pytest.mark.parametrize("value, step, dose, shown", [
    # 1,167.4999 mg read to 5 figures is "1,167.5", which rounds half up to 1,168, not the 1,167 given:
    # more figures until the printed figure rounds to the dose given.
    (1167.4999, "1 mg", "1167 mg", "1,167.4999"),
    (1167.5, "1 mg", "1168 mg", "1,167.5"),
    (0.4427, "0.05 mg", "0.45 mg", "0.4427"),
    # 0.024999 mg to 4 figures is 0.025, which would round up to 0.03: 0.024999 rounds down to 0.02.
    (0.024999, "0.01 mg", "0.02 mg", "0.024999"),
])
def test_calculated_figure_always_rounds_to_the_dose_given(value, step, dose, shown):
    amount, unit = dose.split()
    assert calculated_text(value, Q(float(step.split()[0]), "mg"), Q(float(amount), unit)) == shown


def test_split_dose_working_and_footnote_agree(run, patient_file, tmp_path):
    # HR1 high-dose methotrexate for the standard-risk example (6.4 kg, 62 cm: BSA 0.3320 m²), 5 months on
    # 2026-07-06 (born 2026-01-20): 5,000 × 0.332 × 2/3 = 1,106.67 mg -> 1,107 mg (1 mg step);
    # 10 % = 110.7 mg -> 111 mg over 30 minutes, the remaining 996 mg over 23.5 hours.
    from dosing import patient as patients
    from dosing.documents import documents
    from dosing.regimen import load_phase
    from dosing.pipeline import calculate

    protocol = load_protocol()
    orders = calculate(patients.load(EXAMPLES / "standard-risk.toml"), protocol, load_phase(protocol, "HR1"), date(2026, 7, 6),
                       override="testing the working of a split dose")
    context = documents(orders)[0].context
    working = next(row["working"] for block in context["orders"] if block["generic"] == "methotrexate" for row in block["rows"])
    assert working == ("5,000 mg/m² × 0.332 m² × 2/3 (age 5 months) = 1,106.7 mg; rounded half up to the 1 mg step: 1,107 mg; "
                       "given in parts: 10 % = 110.7 mg, rounded half up to 111 mg over 30 minutes, then the remaining 996 mg over 23.5 hours")
    rule = context["rounding_rule"]
    assert "rounded half up (never to even)" in rule and "the last part is the remainder" in rule and "10 %" in rule


# -- 5. Rounding that never moves a dose far ------------------------------------------


def test_small_taper_doses_are_measured_by_volume(run, patient_file):
    data = orders_json(run, small_infant(patient_file), "2026-06-01")
    # Days 1-28: 6 × 0.177 × 2/3 ÷ 3 = 0.236 mg -> 0.25 mg at the 0.05 mg step (+5.9 %, within 10 %).
    day1 = given(data, "dexamethasone", "PO", 1)
    assert (day1["dose_each"], day1["step"], "volume_ml" in day1) == (0.25, 0.05, False)
    # Days 29-31: 3 × 0.177 × 2/3 ÷ 3 = 0.118 mg; 0.1 mg would be -15.3 %: by volume, 0.4 mg/mL × 0.01 mL =
    # 0.004 mg steps: 0.118 ÷ 0.004 = 29.5 steps exactly, half up -> 30 -> 0.12 mg = 0.3 mL (+1.7 %).
    day29 = given(data, "dexamethasone", "PO", 29)
    assert (day29["dose_each"], day29["step"], day29["volume_ml"], day29["measured_by_volume"]) == (0.12, 0.004, 0.3, True)
    # Days 32-34: 0.059 mg; 0.05 mg is -15.3 %: 0.059 ÷ 0.004 = 14.75 -> 15 -> 0.06 mg = 0.15 mL.
    assert given(data, "dexamethasone", "PO", 32)["dose_each"] == 0.06
    # Days 35-36: 0.0295 mg; 0.05 mg would be +69.5 % (the issue's case): 7.375 -> 7 -> 0.028 mg = 0.07 mL (-5.1 %).
    day35 = given(data, "dexamethasone", "PO", 35)
    assert (day35["dose_each"], day35["volume_ml"], day35["dose"]) == (0.028, 0.07, 0.084)
    # No rounding ever moves a dose more than 10 %.
    for a in data["administrations"]:
        if a["rule"] != "age band":
            assert abs(a["dose_each"] - a["calculated"] / a["times_per_day"]) <= 0.1 * a["calculated"] / a["times_per_day"] + 1e-9, a
    # Over 5 % is still a warning (docs/safety.md): days 35-36 at 5.1 %.
    assert any("days 35, 36" in w and "measurable volume moves each dose by 5.1%" in w for w in data["warnings"])


def test_a_dose_no_step_can_give_within_10_percent_is_not_ordered(run, patient_file, tmp_path):
    # A centre that measures no less than 0.1 mL: the fine step is 0.4 × 0.1 = 0.04 mg. Days 35-36 (0.0295 mg):
    # 0.05 mg is +69.5 %, 0.04 mg is +35.6 %: neither within 10 %, so that order alone is not made.
    regimens = centre_protocol(tmp_path, 'smallest_volume = { value = "0.01 mL"', 'smallest_volume = { value = "0.1 mL"')
    status, out, err = run("sheet", small_infant(patient_file), "--phase", "induction", "--start", "2026-06-01",
                           "--format", "json", "--regimens", regimens)
    assert status == 0, err
    import json

    data = json.loads(out)
    # Days 32-34 (0.059 mg): 0.05 mg is -15.3 %, 0.04 mg (1.475 steps -> 1) is -32.2 %: not made either.
    # Days 29-31 (0.118 mg): 0.1 mg is -15.3 %, 0.12 mg (2.95 steps -> 3 of 0.04) is +1.7 %: given.
    assert data["withheld"] == [{"drug": "dexamethasone", "route": "PO", "days": [32, 33, 34, 35, 36],
                                 "calculated": [0.059, 0.059, 0.059, 0.0295, 0.0295],
                                 "unit": "mg", "reason": "no step gives the dose within 10 % of the calculated dose"}]
    assert not [a for a in data["administrations"] if a["drug"] == "dexamethasone" and a["route"] == "PO" and a["day"] >= 32]
    assert given(data, "dexamethasone", "PO", 29)["dose_each"] == 0.12
    assert data["warnings"][0].startswith("NOT ORDERED: dexamethasone PO on days 32–36: the calculated dose (0.0295 / 0.059 mg) "
                                          "cannot be given within 10 % of itself")
    assert "every other order on this sheet stands" in data["warnings"][0]


# -- 2. Allergies ----------------------------------------------------------------------


@pytest.mark.parametrize("entry, drugs", [
    ("pegaspargase", {"pegaspargase"}),
    ("Oncaspar", {"pegaspargase"}),
    ("asparaginase", {"pegaspargase"}),
    ("PEG-asparaginase", {"pegaspargase"}),
    ("PEG asparaginase (anaphylaxis, 2026)", {"pegaspargase"}),
    ("vinca alkaloids", {"vincristine", "vindesine"}),
    ("anthracycline", {"daunorubicin", "doxorubicin"}),
    ("Adriamycin", {"doxorubicin"}),
    ("6-MP", {"mercaptopurine"}),
    ("leucovorin", {"folinic_acid"}),
    ("Rylaze", {"crisantaspase"}),
    ("penicillin", set()),
    ("co-trimoxazole (rash)", set()),
    ("peanuts", set()),
])
def test_allergy_names_reach_drugs(entry, drugs):
    protocol = load_protocol()
    assert {name for name, drug in protocol.drugs.items() if allergies.matches(entry, drug)} == drugs


@pytest.mark.parametrize("entry", ["pegaspargase", "Oncaspar", "asparaginase", "PEG-asparaginase"])
def test_allergy_to_a_drug_ordered_is_a_hard_stop(run, patient_file, tmp_path, entry):
    path = patient_file(patient={"allergies": [entry]})
    status, out, err = run("sheet", path, "--phase", "induction", "--start", "2026-05-05", "--out", tmp_path / "out")
    assert status == 3 and out == "" and not (tmp_path / "out").exists()
    assert f"patient.allergies: the recorded allergy '{entry}' names PEG-asparaginase" in err
    assert "--substitute crisantaspase" in err and "internal error" not in err


def test_substitution_is_dosed_per_its_label_and_printed(run, patient_file):
    import json

    path = patient_file(patient={"allergies": ["Oncaspar (anaphylaxis)"]})
    status, out, err = run("sheet", path, "--phase", "induction", "--start", "2026-05-05", "--format", "json",
                           "--substitute", "crisantaspase")
    assert status == 0, err
    data = json.loads(out)
    # Rylaze label: 25 mg/m² IM every 48 hours, 7 doses for the pegaspargase dose of day 5: days 5, 7, ..., 17.
    # BSA √(63 × 6.2 / 3600) = 0.329393 -> 0.3294 m²; 25 × 0.3294 = 8.235 mg -> 8.2 mg (0.1 mg step), no infant fraction.
    doses = {a["day"]: a["dose"] for a in data["administrations"] if a["drug"] == "crisantaspase"}
    assert doses == {day: 8.2 for day in (5, 7, 9, 11, 13, 15, 17)}
    assert given(data, "crisantaspase", "IM", 5)["factor"] == "1" and given(data, "crisantaspase", "IM", 5)["provenance"] == "P"  # label dose and days
    assert not [a for a in data["administrations"] if a["drug"] == "pegaspargase"]
    assert data["substitution"]["replaces"] == "pegaspargase"
    assert any(w.startswith("SUBSTITUTION chosen by the pharmacist: crisantaspase (recombinant, Rylaze) 25 mg/m² IM on days 5, 7, 9")
               and "'Oncaspar (anaphylaxis)'" in w for w in data["warnings"])


def test_substitution_runs_the_sheet_on_past_a_short_block(run):
    # HR1 is 6 days with pegaspargase on day 6: the crisantaspase doses fall on days 6, 8, ..., 18, so the sheet runs to day 18.
    from dosing import patient as patients
    from dosing.regimen import load_phase
    from dosing.pipeline import calculate

    protocol = load_protocol()
    orders = calculate(patients.load(EXAMPLES / "ir-block-path.toml"), protocol, load_phase(protocol, "HR1"), date(2026, 7, 13),
                       substitute="crisantaspase", override="testing the substitution")
    assert orders.last_day == 18
    assert [a.day for a in orders.administrations if a.drug == "crisantaspase"] == [6, 8, 10, 12, 14, 16, 18]


def test_substitution_below_its_label_age_is_refused(run, patient_file):
    # Born 2026-04-20, day 5 of induction from 2026-05-05 is 2026-05-09: under 1 month, below Rylaze's label age.
    path = patient_file(patient={"birth_date": "2026-04-20", "diagnosis_date": "2026-05-04"},
                        measurements=[{"date": "2026-05-04", "weight": "3.4 kg", "length": "51 cm"}])
    status, _, err = run("sheet", path, "--phase", "induction", "--start", "2026-05-05", "--format", "json", "--substitute", "crisantaspase")
    assert status == 3 and "--substitute: crisantaspase (recombinant, Rylaze) is licensed from 1 month" in err


def test_allergy_to_the_substitute_stops_it_too(run, patient_file):
    path = patient_file(patient={"allergies": ["PEG-asparaginase", "Erwinia asparaginase"]})
    status, _, err = run("sheet", path, "--phase", "induction", "--start", "2026-05-05", "--format", "json", "--substitute", "crisantaspase")
    assert status == 3 and "'Erwinia asparaginase' names crisantaspase (recombinant, Rylaze)" in err


def test_an_allergy_the_tool_cannot_match_is_printed_never_dropped(run, patient_file):
    data = orders_json(run, patient_file(patient={"allergies": ["penicillin"]}), "2026-05-05")
    assert any("Recorded allergy 'penicillin' names no drug this tool knows" in w for w in data["warnings"])


# -- 6. Fluid -------------------------------------------------------------------------


@pytest.mark.parametrize("kg, ml", [
    (2.4, 240),    # 2.4 × 100
    (10, 1000),    # 10 × 100
    (15, 1250),    # 1,000 + 5 × 50
    (25, 1600),    # 1,000 + 500 + 5 × 20
])
def test_holliday_segar(kg, ml):
    assert load_protocol().fluid.maintenance_per_day(Q(kg, "kg")).m_as("mL/day") == pytest.approx(ml)


def blinatumomab(weight, bag_hours=24):
    from dosing import patient as patients
    from dosing.regimen import load_phase
    from dosing.pipeline import calculate
    import attrs

    protocol = load_protocol()
    patient = patients.load(EXAMPLES / "sr-moves-to-high-risk.toml")
    patient = attrs.evolve(patient, measurements=tuple(attrs.evolve(m, weight=Q(weight, "kg")) for m in patient.measurements))
    return calculate(patient, protocol, load_phase(protocol, "blinatumomab"), date(2026, 7, 6), bag_hours=bag_hours)


@pytest.mark.parametrize("kg, warned", [
    # A 24-hour bag runs 10 mL/h = 240 mL a day. The warning is above 50 % of Holliday–Segar:
    (4.79, True),   # 479 mL a day, half is 239.5 mL: 240 mL is over
    (4.8, False),   # 480 mL a day, half is 240 mL: 240 mL is not above it
    (4.81, False),
])
def test_fluid_warning_at_its_threshold(kg, warned):
    orders = blinatumomab(kg)
    found = [w for w in sentences(orders.findings) if w.startswith("Fluid:")]
    assert bool(found) is warned
    if warned:
        assert "240 mL a day (blinatumomab infusion 240 mL)" in found[0]
        # the lower-volume option: the allowed bag with the least volume, 96 hours at 2.5 mL/h = 60 mL a day
        assert "Lower-volume option: 96-hour bags at 2.5 mL/h (60 mL a day): order them with --bag-hours 96" in found[0]


def test_the_issue_infant_is_warned_and_the_96_hour_bag_is_not():
    # 2.4 kg: Holliday–Segar 240 mL a day; a 24-hour bag gives 240 mL (100 %), a 96-hour bag 60 mL (25 %).
    assert any(w.startswith("Fluid:") and "100 % of the maintenance fluid for 2.4 kg" in w for w in sentences(blinatumomab(2.4).findings))
    assert not any(w.startswith("Fluid:") for w in sentences(blinatumomab(2.4, bag_hours=96).findings))
    days = fluid.by_day(blinatumomab(2.4, bag_hours=96))
    # Day 1 from 08:00: 16 hours × 2.5 mL/h = 40 mL of blinatumomab, beside the dexamethasone premedication
    # (undiluted 4 mg/mL); then 24 × 2.5 = 60 mL a day.
    parts = dict(days[0].parts)
    assert parts["blinatumomab infusion"].m_as("mL") == pytest.approx(40) and set(parts) == {"blinatumomab infusion", "dexamethasone IV"}
    assert [d.volume.m_as("mL") for d in days[1:3]] == pytest.approx([60, 60]) and days[1].volume.check("[volume]")


def test_timing_values_are_written_in_words_in_the_values_not_verified():
    # HR1's mesna follows each cyclophosphamide dose at 0, 4 and 8 hours (a placeholder, tag ?): the banner
    # says so in words, not as the data's table {'drug': ..., 'hours': [...]}.
    from dosing import patient as patients
    from dosing.documents import documents
    from dosing.regimen import load_phase
    from dosing.pipeline import calculate

    protocol = load_protocol()
    orders = calculate(patients.load(EXAMPLES / "ir-block-path.toml"), protocol, load_phase(protocol, "HR1"), date(2026, 7, 13))
    banner = documents(orders)[0].context["banner"]
    assert "at 0, 4, 8 hours after each cyclophosphamide IV dose" in [row["value"] for row in banner]
    assert not any("{" in row["value"] for row in banner)
