"""Doses changed by results (issue 15, items 3-5): dosing.adjustments, applied by dosing.schedule,
mirrored by the second check (dosing/second_check/adjustments.py), each rule at and either side of
its threshold, worked by hand.

The test infant (conftest.BASE_PATIENT): born 10 Feb 2026, 6.2 kg and 63 cm measured 4 May 2026.
BSA (Mosteller) = √(63 × 6.2 / 3600) = √0.1085 = 0.32939..., rounded to 0.3294 m².
Induction from 5 May 2026: age 2-3 months, infant fraction 2/3 (docs/reference.md §1).
Consolidation and maintenance from 1 Sep 2026: age 6 months, fraction 3/4.
"""

import json
from datetime import date
from fractions import Fraction

import pytest

from conftest import given
from dosing import adjustments
from dosing import patient as patients
from dosing.documents.wording import sentences
from dosing.errors import RegimenError
from dosing.formatting import working
from dosing.pipeline import calculate
from dosing.regimen import load_phase, load_protocol
from dosing.regimen.adjustments import _load

OVERRIDE = ["--override-pathway", "test of the dose adjustments", "--override-dates", "test of the dose adjustments"]


def lab(test, value, on="2026-05-04", **more):
    return {"date": on, "test": test, "value": value, **more}


def engine(patient_file, phase="induction", start=date(2026, 5, 5), window=None, **changes):
    protocol = load_protocol()
    patient = patients.load(patient_file(**changes))
    return calculate(patient, protocol, load_phase(protocol, phase), start, window=window)


def doses(orders, drug, route="IV"):
    return {a.day: a for a in orders.administrations if (a.drug, a.route) == (drug, route)}


def sheet(run, path, phase, start, extra=()):
    status, out, err = run("sheet", path, "--phase", phase, "--start", start, "--format", "json", *OVERRIDE, *extra)
    assert status == 0, err
    return json.loads(out)


# -- liver and kidney: DAUNOrubicin (label summaries, A) --------------------------------------
# Day 8, 2 months old: 30 mg/m² × 0.3294 m² × 2/3 = 6.588 mg.
#   no change:  6.588 rounded half up to the 0.1 mg step = 6.6 mg
#   75 %:       6.588 × 0.75 = 4.941 mg, rounded down = 4.9 mg
#   50 %:       6.588 × 0.5 = 3.294 mg, rounded DOWN = 3.2 mg (half up would give 3.3 mg)


@pytest.mark.parametrize("value,factor,dose", [
    ("1.19 mg/dL", None, 6.6),          # below 1.2: no change
    ("1.2 mg/dL", Fraction(3, 4), 4.9),  # exactly 1.2: "from 1.2", 75 %
    ("3.0 mg/dL", Fraction(3, 4), 4.9),  # exactly 3: not above 3, still 75 %
    ("3.01 mg/dL", Fraction(1, 2), 3.2),  # above 3: 50 %
    ("20.5 umol/L", None, 6.6),         # 20.5 ÷ 17.1 = 1.1988 mg/dL: below 1.2
    ("20.52 umol/L", Fraction(3, 4), 4.9),  # 20.52 ÷ 17.1 = 1.2 mg/dL exactly
])
def test_daunorubicin_by_bilirubin(patient_file, value, factor, dose):
    day8 = doses(engine(patient_file, labs=[lab("bilirubin", value)]), "daunorubicin")[8]
    assert day8.dose.m_as("mg") == pytest.approx(dose)
    assert (day8.adjustment.factor if day8.adjustment else None) == factor


@pytest.mark.parametrize("value,dose", [("3.0 mg/dL", 6.6), ("3.01 mg/dL", 3.2), ("265 umol/L", 6.6), ("267 umol/L", 3.2)])
def test_daunorubicin_by_creatinine(patient_file, value, dose):
    # 265 ÷ 88.42 = 2.997 mg/dL (not above 3); 267 ÷ 88.42 = 3.020 mg/dL (above 3: 50 %)
    day8 = doses(engine(patient_file, labs=[lab("creatinine", value)]), "daunorubicin")[8]
    assert day8.dose.m_as("mg") == pytest.approx(dose)


def test_bilirubin_and_creatinine_multiply(patient_file):
    # 6.588 × 0.75 × 0.5 = 2.4705 mg, rounded down to 2.4 mg (2.9 % below: within the 10 % bound)
    day8 = doses(engine(patient_file, labs=[lab("bilirubin", "2 mg/dL"), lab("creatinine", "3.5 mg/dL")]), "daunorubicin")[8]
    assert day8.adjustment.factor == Fraction(3, 8) and day8.dose.m_as("mg") == pytest.approx(2.4)
    assert any(v.what == "two dose changes combined" for v in day8.values)


def test_a_result_older_than_the_window_is_not_used(patient_file):
    # Induction day 1 is 5 May 2026; the window is 7 days: 28 Apr is used, 27 Apr is not.
    used = doses(engine(patient_file, labs=[lab("bilirubin", "2 mg/dL", on="2026-04-28")]), "daunorubicin")[8]
    old = doses(engine(patient_file, labs=[lab("bilirubin", "2 mg/dL", on="2026-04-27")]), "daunorubicin")[8]
    assert used.adjustment.factor == Fraction(3, 4) and old.adjustment is None


def test_the_working_and_the_json_carry_the_results_used(patient_file, run):
    path = patient_file(labs=[lab("bilirubin", "3.01 mg/dL", time="07:30")])
    orders = calculate(patients.load(path), load_protocol(), load_phase(load_protocol(), "induction"), date(2026, 5, 5))
    text = working(doses(orders, "daunorubicin")[8])
    assert "× 50 % for bilirubin 3.01 mg/dL on 04 May 2026 07:30, above 3 mg/dL" in text
    assert "= 3.294 mg; rounded down to the 0.1 mg step (a reduced dose is never rounded up): 3.2 mg" in text
    entry = given(sheet(run, path, "induction", "2026-05-05"), "daunorubicin", "IV", 8)  # the second check agreed
    assert entry["dose"] == 3.2 and entry["adjustment"]["factor"] == "1/2"
    assert entry["adjustment"]["results_used"] == [
        {"test": "bilirubin", "value": 3.01, "unit": "mg/dL", "date": "2026-05-04", "time": "07:30", "entry": 1}]
    assert "adjustment" not in given(sheet(run, patient_file(name="plain.toml"), "induction", "2026-05-05"), "daunorubicin", "IV", 8)


def test_vincristine_above_3_mg_dl_is_a_placeholder(patient_file):
    # Day 8: 1.5 mg/m² × 0.3294 × 2/3 = 0.3294 mg; at bilirubin 3.0 unchanged (0.33 mg); above 3: 50 % = 0.1647 mg,
    # rounded down to the 0.01 mg step = 0.16 mg (2.9 % below). The rule is tagged ?: the dose is DRAFT.
    at = doses(engine(patient_file, labs=[lab("bilirubin", "3 mg/dL")]), "vincristine")[8]
    above = doses(engine(patient_file, labs=[lab("bilirubin", "3.01 mg/dL")]), "vincristine")[8]
    assert at.adjustment is None and at.dose.m_as("mg") == pytest.approx(0.33)
    assert above.dose.m_as("mg") == pytest.approx(0.16) and above.provenance == "?"


def test_a_kidney_rule_still_to_set_names_the_result_and_marks_the_sheet(patient_file):
    # Consolidation 1 orders methotrexate; adjustments.toml has no bands for it (Kintzel and Dorr not read).
    orders = engine(patient_file, phase="consolidation_1", start=date(2026, 9, 1), labs=[lab("creatinine", "30 umol/L", on="2026-08-31")])
    (found,) = [f for f in orders.findings if f.code == "organ rule not set"]
    # 30 ÷ 88.42 = 0.339 mg/dL
    assert "creatinine 0.34 mg/dL on 31 Aug 2026 (labs[1]); no dose rule by kidney function is set" in sentences([found])[0]
    assert all(a.provenance == "?" for a in found.administrations) and all(a.adjustment is None for a in found.administrations)


# -- genotype (CPIC) -------------------------------------------------------------------------
# Maintenance day 1 (1 Sep 2026, 6 months): mercaptopurine 50 mg/m²/day × 0.3294 m² × 3/4 = 12.3525 mg.

WEEKS = (date(2026, 9, 1), date(2026, 9, 14))


def mercaptopurine(patient_file, **changes):
    return doses(engine(patient_file, phase="maintenance", start=date(2026, 9, 1), window=WEEKS, **changes), "mercaptopurine", "PO")


def test_genotype_doses(patient_file):
    counts = [lab("wbc", "2.5 10^9/L", on="2026-08-31"), lab("anc", "1.2 10^9/L", on="2026-08-31")]  # 100 % by counts
    # one gene intermediate: 12.3525 × 50 % = 6.17625 mg, down to the 0.5 mg step: 6 mg
    one = mercaptopurine(patient_file, genotype={"tpmt": "intermediate", "nudt15": "normal"}, labs=counts)
    assert one[1].dose.m_as("mg") == 6 and one[1].provenance == "?"  # the starting 50 % is the centre's placeholder
    assert "× 50 % for TPMT intermediate, NUDT15 normal (CPIC, Relling et al. 2019, docs/reference.md §12: range 30–80 %" in working(one[1])
    # both intermediate: 12.3525 × 35 % = 4.323375 mg, rounded DOWN to 4 mg (7.5 % below); half up would give 4.5 mg
    both = mercaptopurine(patient_file, genotype={"tpmt": "intermediate", "nudt15": "intermediate"}, labs=counts)
    assert both[1].dose.m_as("mg") == 4
    # TPMT poor: 12.3525 × 10 % = 1.23525 mg; down to 0.5 mg gives 1 mg, 19 % below (past the 10 % bound), so measured by
    # volume: 20 mg/mL × 0.01 mL = 0.2 mg steps, down to 1.2 mg (2.9 % below) = 0.06 mL; on days 1, 3 and 5 of each week only
    poor = mercaptopurine(patient_file, genotype={"tpmt": "poor", "nudt15": "normal"}, labs=counts)
    assert sorted(poor) == [1, 3, 5, 8, 10, 12]
    assert poor[1].dose.m_as("mg") == pytest.approx(1.2) and poor[1].by_volume and poor[1].volume.m_as("mL") == pytest.approx(0.06)
    # normal: the usual dose, 12.3525 half up to 12.5 mg, no finding
    normal = engine(patient_file, phase="maintenance", start=date(2026, 9, 1), window=WEEKS, labs=counts,
                    genotype={"tpmt": "normal", "nudt15": "normal"})
    assert doses(normal, "mercaptopurine", "PO")[1].dose.m_as("mg") == 12.5
    assert not [f for f in normal.findings if f.code == "genotype unknown"]


def test_unknown_genotype_changes_no_dose_and_the_sheet_says_so(patient_file):
    orders = engine(patient_file, phase="consolidation_1", start=date(2026, 9, 1))
    (found,) = [f for f in orders.findings if f.code == "genotype unknown"]
    assert sentences([found])[0].startswith("TPMT/NUDT15 genotype unknown (TPMT and NUDT15 not given")
    assert all(a.drug == "mercaptopurine" and a.adjustment is None for a in found.administrations)
    # TPMT intermediate, NUDT15 not given: the TPMT rule applies and the sheet names the unknown gene
    half = engine(patient_file, phase="consolidation_1", start=date(2026, 9, 1), genotype={"tpmt": "intermediate"})
    (found,) = [f for f in half.findings if f.code == "genotype unknown"]
    assert found.facts.genes == ("NUDT15",) and found.administrations[0].adjustment.factor == Fraction(1, 2)


# -- maintenance titration by counts (placeholder table, hold rule A) -----------------------------


@pytest.mark.parametrize("wbc,anc,factor,dose", [
    ("1.49 10^9/L", "1 10^9/L", Fraction(1, 2), 6),    # 12.3525 × 50 % = 6.17625, down: 6 mg
    ("1.5 10^9/L", "1 10^9/L", Fraction(3, 4), 9),     # from 1.5: 12.3525 × 75 % = 9.264375, down: 9 mg
    ("1.99 10^9/L", "1 10^9/L", Fraction(3, 4), 9),
    ("2 10^9/L", "1 10^9/L", Fraction(1), 12.5),       # from 2: 100 %, 12.3525 half up: 12.5 mg
    ("3.5 10^9/L", "1 10^9/L", Fraction(5, 4), 15.5),  # from 3.5: 125 % = 15.440625, half up (not reduced): 15.5 mg
    ("2 10^9/L", "0.5 10^9/L", Fraction(1), 12.5),     # neutrophils at the floor: not held
])
def test_maintenance_by_counts(patient_file, wbc, anc, factor, dose):
    counts = [lab("wbc", wbc, on="2026-08-31"), lab("anc", anc, on="2026-08-31")]
    day1 = mercaptopurine(patient_file, genotype={"tpmt": "normal", "nudt15": "normal"}, labs=counts)[1]
    assert day1.adjustment.factor == factor and day1.dose.m_as("mg") == dose
    assert [r.test for r in day1.adjustment.results_used] == ["wbc", "anc"]


def test_maintenance_hold_below_the_neutrophil_floor(patient_file):
    counts = [lab("wbc", "2.5 10^9/L", on="2026-08-31"), lab("anc", "0.49 10^9/L", on="2026-08-31")]
    orders = engine(patient_file, phase="maintenance", start=date(2026, 9, 1), window=WEEKS, labs=counts)
    assert not [a for a in orders.administrations if a.route == "PO"]  # mercaptopurine and methotrexate PO held
    (hold,) = [f for f in orders.findings if f.code == "titration hold"]
    assert sentences([hold])[0].startswith("HOLD: mercaptopurine PO and methotrexate PO are not ordered on this sheet: "
                                           "neutrophils 0.49 × 10⁹/L on 31 Aug 2026 (labs[2]), below the neutrophil floor of 0.5")


def test_a_hold_on_the_placeholder_floor_makes_the_sheet_a_draft(run, patient_file, tmp_path):
    # A centre that has set its INTRATHECAL dexamethasone table (tag A in its copy), so nothing else on the sheet is a
    # placeholder. Weeks 9-10 of maintenance (from day 57, 27 Oct 2026: the INTRATHECAL day), counts taken on
    # 26 Oct, after day 1 but before the sheet's first day (allowed: a later window is decided on the counts taken
    # before it). Neutrophils 0.4 < floor 0.5: mercaptopurine and methotrexate PO held. The floor is a
    # placeholder the centre has not set (tag ?): the sheet is a DRAFT although no dose printed uses a ?.
    from conftest import centre_regimens

    regimens = centre_regimens(tmp_path, "all-baby-2021/protocol.toml",
                               'tag = "?", source = "docs/reference.md §8: placeholder; the seed names dexamethasone',
                               'tag = "A", source = "docs/reference.md §8: set by the test centre; the seed names dexamethasone')
    window = ["--from", "2026-10-27", "--weeks", "2", "--regimens", regimens]
    counts = [lab("wbc", "2.5 10^9/L", on="2026-10-26"), lab("anc", "0.4 10^9/L", on="2026-10-26")]
    data = sheet(run, patient_file(labs=counts), "maintenance", "2026-09-01", window)
    assert {a["route"] for a in data["administrations"]} == {"INTRATHECAL"}  # the oral doses held
    assert all(a["provenance"] != "?" for a in data["administrations"])
    assert data["draft"] is True and any(w.startswith("HOLD: mercaptopurine PO and methotrexate PO") for w in data["warnings"])
    # neutrophils at the floor (0.5 is not below 0.5): given, at the percentage of the titration table, itself a
    # placeholder (tag ?) on each oral dose: still a DRAFT, now because of the doses printed
    counts[1] = lab("anc", "0.5 10^9/L", on="2026-10-26")
    data = sheet(run, patient_file(labs=counts), "maintenance", "2026-09-01", window)
    oral = [a for a in data["administrations"] if a["route"] == "PO"]
    assert oral and all(a["provenance"] == "?" for a in oral) and data["draft"] is True
    assert not any(w.startswith("HOLD") for w in data["warnings"])
    # The hold alone makes the documents DRAFT: the calendar of the held weeks prints only INTRATHECAL doses, all
    # tag A in this centre's copy, and the hold on the placeholder floor; at the floor there is no hold.
    from dosing.documents import documents
    from dosing.draft import held_on_placeholder

    protocol = load_protocol(regimens)
    for anc, held in (("0.4 10^9/L", True), ("0.5 10^9/L", False)):
        counts[1] = lab("anc", anc, on="2026-10-26")
        orders = calculate(patients.load(patient_file(labs=counts)), protocol, load_phase(protocol, "maintenance"),
                           date(2026, 9, 1), window=(date(2026, 10, 27), date(2026, 11, 9)))
        assert held_on_placeholder(orders) is held
        if held:
            calendar = next(d for d in documents(orders) if d.kind == "calendar")
            assert calendar.context["draft"] is True and all(row["tag"] != "?" for row in calendar.context["banner"])


def test_maintenance_at_the_neutrophil_floor_is_not_held_and_not_a_draft_for_it(patient_file):
    # 0.5 exactly is not below the floor of 0.5: given (white cells 2.5 -> the band from 2: 100 %), and no hold finding.
    counts = [lab("wbc", "2.5 10^9/L", on="2026-08-31"), lab("anc", "0.5 10^9/L", on="2026-08-31")]
    orders = engine(patient_file, phase="maintenance", start=date(2026, 9, 1), window=WEEKS, labs=counts)
    assert [a for a in orders.administrations if a.route == "PO"]
    from dosing.draft import held_on_placeholder

    assert not [f for f in orders.findings if f.code == "titration hold"] and not held_on_placeholder(orders)


def test_maintenance_without_counts_stays_at_100_percent(patient_file):
    orders = engine(patient_file, phase="maintenance", start=date(2026, 9, 1), window=WEEKS)
    assert doses(orders, "mercaptopurine", "PO")[1].dose.m_as("mg") == 12.5
    (missing,) = [f for f in orders.findings if f.code == "titration counts missing"]
    assert sentences([missing])[0].startswith("No white count within 7 days before 01 Sep 2026: mercaptopurine PO and "
                                              "methotrexate PO at 100 % of the protocol dose")


# -- the second check ------------------------------------------------------------------------


def test_the_second_check_agrees_and_catches_a_slip(patient_file, run, monkeypatch):
    path = patient_file(genotype={"tpmt": "intermediate", "nudt15": "normal"},
                        labs=[lab("wbc", "1.8 10^9/L", on="2026-08-31"), lab("anc", "0.9 10^9/L", on="2026-08-31")])
    data = sheet(run, path, "maintenance", "2026-09-01")
    # mercaptopurine: 12.3525 × 50 % × 75 % = 4.63218... mg, down to 4.5 mg; methotrexate PO 20 mg/m² × 0.3294 × 3/4
    # = 4.941 mg × 75 % = 3.70575 mg, down to 3.5 mg (5.6 % below)
    assert given(data, "mercaptopurine", "PO", 1)["dose"] == 4.5 and given(data, "mercaptopurine", "PO", 1)["adjustment"]["factor"] == "3/8"
    assert given(data, "methotrexate", "PO", 1)["dose"] == 3.5
    # A slip in dosing/adjustments.py (the one-intermediate percentage read as 60 %): the second check refuses the sheet.
    real = adjustments._genotype

    def slipped(order, genotype, rules):
        change, days = real(order, genotype, rules)
        return (adjustments.Change(Fraction(3, 5), change.reason, change.values, change.results), days) if change else (None, days)

    monkeypatch.setattr(adjustments, "_genotype", slipped)
    status, _, err = run("sheet", path, "--phase", "maintenance", "--start", "2026-09-01", "--format", "json", *OVERRIDE)
    assert status == 3 and "second check" in err and "mercaptopurine PO day 1" in err


def test_the_second_check_follows_the_replacement_schedule(patient_file, run):
    path = patient_file(genotype={"tpmt": "poor", "nudt15": "normal"}, labs=[lab("wbc", "2.5 10^9/L", on="2026-08-31"),
                                                                          lab("anc", "1.2 10^9/L", on="2026-08-31")])
    data = sheet(run, path, "maintenance", "2026-09-01", ["--weeks", "2"])
    days = [a["day"] for a in data["administrations"] if a["drug"] == "mercaptopurine"]
    assert days == [1, 3, 5, 8, 10, 12] and given(data, "mercaptopurine", "PO", 1)["adjustment"]["week_days"] == [1, 3, 5]


# -- the data --------------------------------------------------------------------------------


def test_a_percent_outside_its_cpic_range_is_refused(tmp_path):
    text = (load_protocol().directory / "adjustments.toml").read_text(encoding="utf-8")
    bad = tmp_path / "adjustments.toml"
    bad.write_text(text.replace('percent = { value = "50 %", tag = "?"', 'percent = { value = "90 %", tag = "?"', 1), encoding="utf-8")
    with pytest.raises(RegimenError, match="outside its range"):
        _load(bad, frozenset(load_protocol().drugs))
