"""The patient file's results (issue 15): [[labs]], [genotype], [[medications]] read and refused,
and dosing/results.py's latest(), levels() and bedside Schwartz worked by hand."""

import copy
import tomllib
from datetime import date, datetime, time
from pathlib import Path

import pint
import pytest

from dosing import bounds, dates
from dosing.errors import InputError
from dosing.patient import from_dict, load
from dosing.regimen import load_phase, load_protocol
from dosing.regimen.schwartz import load_schwartz
from dosing.results import (CREATININE_UMOL_PER_L_PER_MG_DL, EGFR_UNIT, Genotype, creatinine_mg_dl, estimated_gfr, latest,
                            levels, schwartz_egfr)
from dosing.units import LAB_UNITS, Q, lab_unit_text

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
RESULTS_TOML = ROOT / "regimens" / "all-baby-2021" / "results.toml"

BASE = {
    "patient": {"id": "MRN-L0001", "name": "Test, Infant", "sex": "female", "birth_date": date(2026, 2, 10),
                "diagnosis_date": date(2026, 5, 4), "allergies": []},
    "disease": {"kmt2a": "germline", "cns": "CNS1"},
    "measurements": [{"date": date(2026, 5, 4), "weight": "6.2 kg", "length": "63 cm"}],
}


def patient(labs=(), **tables):
    data = copy.deepcopy(BASE)
    if labs:
        data["labs"] = [dict(entry) for entry in labs]
    data.update(copy.deepcopy(tables))
    return from_dict(data)


def lab(test="anc", value="1.2 10^9/L", day=date(2026, 6, 1), **more):
    entry = {"test": test, "value": value, **more}
    if day is not None:
        entry["date"] = day
    return entry


def refusal(**changes) -> InputError:
    with pytest.raises(InputError) as caught:
        patient(**changes)
    return caught.value


# -- each unit each test takes ---------------------------------------------------------------------

UNITS = [
    ("anc", "1.2 10^9/L", 1.2, "billion_cells_per_liter"),
    ("anc", "1.2 x10^9/L", 1.2, "billion_cells_per_liter"),
    ("anc", "1.2 ×10⁹/L", 1.2, "billion_cells_per_liter"),
    ("anc", "1.2 x 10^9/l", 1.2, "billion_cells_per_liter"),
    ("platelets", "135 10^9/L", 135, "billion_cells_per_liter"),
    ("wbc", "3.1 10^9/L", 3.1, "billion_cells_per_liter"),
    ("hemoglobin", "98 g/L", 98, "g/L"),
    ("hemoglobin", "9.8 g/dL", 9.8, "g/dL"),
    ("creatinine", "22 umol/L", 22, "umol/L"),
    ("creatinine", "22 µmol/L", 22, "umol/L"),  # the micro sign, U+00B5
    ("creatinine", "22 μmol/L", 22, "umol/L"),  # the Greek mu, U+03BC
    ("creatinine", "0.3 mg/dL", 0.3, "mg/dL"),
    ("bilirubin", "6 umol/L", 6, "umol/L"),
    ("bilirubin", "0.4 mg/dL", 0.4, "mg/dL"),
    ("alt", "35 U/L", 35, "enzyme_unit/L"),
    ("alt", "35 IU/L", 35, "enzyme_unit/L"),
    ("methotrexate", "0.8 umol/L", 0.8, "umol/L"),
    ("methotrexate", "0.8 µmol/L", 0.8, "umol/L"),
    ("asparaginase_activity", "120 U/L", 120, "enzyme_unit/L"),
    ("asparaginase_activity", "120 IU/L", 120, "enzyme_unit/L"),
    ("asparaginase_activity", "0.12 U/mL", 0.12, "enzyme_unit/mL"),
]


@pytest.mark.parametrize("test,written,magnitude,unit", UNITS, ids=[f"{t}:{w}" for t, w, _, _ in UNITS])
def test_each_unit_each_test_takes(test, written, magnitude, unit):
    (result,) = patient(labs=[lab(test, written)]).labs
    assert result.test == test and result.entry == 1
    assert result.value.magnitude == magnitude  # kept as written: no conversion on the way in
    assert result.value.units == Q(1, unit).units


def test_every_test_has_units_and_a_bound():
    # The allow-list and the bounds cover the same nine tests, and every unit a test takes has a bound.
    assert set(LAB_UNITS) == set(bounds.LAB_MAX)
    for test, units in LAB_UNITS.items():
        *limits, reason = bounds.LAB_MAX[test]
        assert reason and limits
        for name in units.values():
            assert any(Q(1, name).check(Q(1, unit).dimensionality) for _, unit, _ in limits), (test, name)


WRONG_UNITS = [
    ("anc", "1.2 mg/dL", "'mg/dL' is not a unit of a neutrophil count", "10^9/L"),
    ("platelets", "135 umol/L", "is not a unit of a platelet count", "10^9/L"),
    ("wbc", "3.1 g/L", "is not a unit of a white cell count", "10^9/L"),
    ("hemoglobin", "6 mmol/L", "is not a unit of a haemoglobin", "g/L or g/dL"),
    ("creatinine", "22 g/L", "is not a unit of a creatinine", "umol/L or µmol/L or mg/dL"),
    ("bilirubin", "6 U/L", "is not a unit of a bilirubin", "mg/dL"),
    ("alt", "35 umol/L", "is not a unit of an ALT", "U/L"),
    ("methotrexate", "0.8 mg/dL", "is not a unit of a methotrexate level", "umol/L"),
    ("methotrexate", "800 nmol/L", "is not a unit of a methotrexate level", "umol/L"),
    ("asparaginase_activity", "0.1 units/mL", "is not a unit of an asparaginase activity", "U/mL"),
    ("anc", "1.2", "the unit is missing", "10^9/L"),
    ("anc", "1,2 10^9/L", "decimal comma", "10^9/L"),
    ("anc", "1.2 10^9/L; repeat", "is not a unit of a neutrophil count", "10^9/L"),
]


@pytest.mark.parametrize("test,written,problem,fix", WRONG_UNITS, ids=[f"{t}:{w}" for t, w, _, _ in WRONG_UNITS])
def test_a_unit_that_does_not_fit_the_test_is_refused_with_the_field_and_the_fix(test, written, problem, fix):
    error = refusal(labs=[lab(), lab(test, written)])
    assert error.field == "labs[2].value"
    assert problem in error.problem
    assert fix in error.fix and "e.g. value = " in error.fix


def test_a_number_without_a_unit_is_refused():
    error = refusal(labs=[lab(value=1.2)])
    assert error.field == "labs[1].value" and "has no unit" in error.problem and '"1.2 10^9/L"' in error.fix


# -- impossible values: negative, or above the bound with its reason --------------------------------

def test_the_anc_bound_at_and_above():
    # bounds.LAB_MAX: 100 × 10^9/L is accepted; 100.1 is not, with the reason printed.
    (result,) = patient(labs=[lab(value="100 10^9/L")]).labs
    assert result.value.magnitude == 100
    error = refusal(labs=[lab(value="100.1 10^9/L")])
    assert error.field == "labs[1].value"
    assert "is above 100 × 10^9/L" in error.problem and "count per µL" in error.problem
    # The slip it is for: 1200 neutrophils per µL written as 10^9/L.
    assert refusal(labs=[lab(value="1200 10^9/L")]).field == "labs[1].value"


BOUNDS = [(test, magnitude, unit, shown) for test, (*limits, _) in bounds.LAB_MAX.items()
          for magnitude, unit, shown in limits]


@pytest.mark.parametrize("test,magnitude,unit,shown", BOUNDS, ids=[f"{t}:{s}" for t, _, _, s in BOUNDS])
def test_every_bound_at_and_just_above(test, magnitude, unit, shown):
    spelling = next(w for w, name in LAB_UNITS[test].items() if name == unit)
    day = None if test == "methotrexate" else date(2026, 6, 1)
    extra = {"hours_after_start": 42} if test == "methotrexate" else {}
    (result,) = patient(labs=[lab(test, f"{magnitude:g} {spelling}", day, **extra)]).labs
    assert result.value.magnitude == magnitude
    error = refusal(labs=[lab(test, f"{magnitude * 1.001:g} {spelling}", day, **extra)])
    assert error.field == "labs[1].value" and f"is above {magnitude:g} {shown}" in error.problem


def test_a_slip_between_umol_and_mg_is_caught_by_the_other_units_bound():
    # 26.5 µmol/L typed as mg/dL: above 22.6 mg/dL (2000 µmol/L ÷ 88.42 = 22.62).
    assert "is above 22.6 mg/dL" in refusal(labs=[lab("creatinine", "26.5 mg/dL")]).problem
    # 95 g/L typed as g/dL: above 30 g/dL.
    assert "is above 30 g/dL" in refusal(labs=[lab("hemoglobin", "95 g/dL")]).problem


def test_negative_refused_zero_accepted():
    error = refusal(labs=[lab(value="-0.1 10^9/L")])
    assert error.field == "labs[1].value" and "is negative" in error.problem
    (result,) = patient(labs=[lab(value="0 10^9/L")]).labs  # no neutrophils at all is a real result
    assert result.value.magnitude == 0


# -- methotrexate levels: hours after the start, or a date ----------------------------------------

@pytest.mark.parametrize("hours", [0, 42, 240, 36.5])
def test_hours_after_start_from_0_to_240(hours):
    (level,) = patient(labs=[lab("methotrexate", "0.8 umol/L", None, hours_after_start=hours)]).labs
    assert level.hours_after_start == hours and level.taken is None and level.date is None


@pytest.mark.parametrize("hours", [240.5, -1, -0.5, "42", True, float("nan"), float("inf")])
def test_hours_after_start_outside_0_to_240_is_refused(hours):
    error = refusal(labs=[lab("methotrexate", "0.8 umol/L", None, hours_after_start=hours)])
    assert error.field == "labs[1].hours_after_start" and "from 0 to 240" in error.problem
    assert "hours_after_start = 42" in error.fix


def test_hours_after_start_only_for_methotrexate():
    error = refusal(labs=[lab(hours_after_start=24)])
    assert error.field == "labs[1].hours_after_start" and "methotrexate level only" in error.problem


def test_a_methotrexate_level_needs_a_date_or_hours():
    error = refusal(labs=[lab(), lab("methotrexate", "0.8 umol/L", None)])
    assert error.field == "labs[2]" and "needs its date" in error.problem and "hours_after_start = 42" in error.fix
    # Either is enough; both are kept.
    (dated,) = patient(labs=[lab("methotrexate", "0.8 umol/L", date(2026, 6, 3), time="08:00")]).labs
    assert dated.taken == datetime(2026, 6, 3, 8, 0) and dated.hours_after_start is None
    (both,) = patient(labs=[lab("methotrexate", "0.8 umol/L", date(2026, 6, 3), hours_after_start=48)]).labs
    assert both.date == date(2026, 6, 3) and both.hours_after_start == 48


def test_other_tests_need_a_date():
    error = refusal(labs=[lab(day=None)])
    assert error.field == "labs[1].date" and "is missing" in error.problem


# -- time of day -------------------------------------------------------------------------------------

def test_time_known_and_unknown():
    with_time, without, midnight, toml_time = patient(labs=[
        lab(time="07:30"), lab(), lab(time="00:00"), lab(time=time(18, 5))]).labs
    assert with_time.taken == datetime(2026, 6, 1, 7, 30) and with_time.time_known
    assert without.taken == datetime(2026, 6, 1, 0, 0) and not without.time_known  # a date only: time unknown
    assert midnight.taken == datetime(2026, 6, 1, 0, 0) and midnight.time_known  # written, so known
    assert toml_time.taken == datetime(2026, 6, 1, 18, 5) and toml_time.time_known  # time = 18:05:00 unquoted


@pytest.mark.parametrize("written", ["7:30", "24:00", "07:60", "07:30:00", "0730", "07.30", "", 730, time(7, 30, 15)])
def test_a_time_that_is_not_hh_mm_is_refused(written):
    error = refusal(labs=[lab(time=written)])
    assert error.field == "labs[1].time" and 'time = "07:30"' in error.fix


def test_a_time_without_a_date_is_refused():
    error = refusal(labs=[lab("methotrexate", "0.8 umol/L", None, hours_after_start=42, time="07:30")])
    assert error.field == "labs[1].time" and "without a date" in error.problem


# -- the test, the entry's keys, hidden characters ---------------------------------------------------

@pytest.mark.parametrize("written,hint", [("acn", 'did you mean test = "anc"?'), ("neutrophils", 'did you mean test = "anc"?'),
                                          ("Hb", 'did you mean test = "hemoglobin"?'),
                                          ("MTX", 'did you mean test = "methotrexate"?'),
                                          ("platelet", 'did you mean test = "platelets"?'),
                                          ("ferritin", "write one of: anc, platelets")])
def test_an_unknown_test_is_refused_with_a_close_match(written, hint):
    error = refusal(labs=[lab(test=written)])
    assert error.field == "labs[1].test" and "is not a test" in error.problem and hint in error.fix


def test_an_unknown_key_in_a_result_is_refused_with_a_hint():
    error = refusal(labs=[lab(tmie="07:30")])
    assert error.field == "labs[1].tmie" and "did you mean 'time'?" in error.fix
    error = refusal(labs=[lab(unit="10^9/L")])  # the unit is written in the value
    assert error.field == "labs[1].unit" and "known fields: date, time, test, value, hours_after_start" in error.fix


@pytest.mark.parametrize("where", ["value", "test"])
def test_invisible_characters_are_refused_as_in_other_text(where):
    entry = lab()
    entry[where] = entry[where][:2] + "\u200f" + entry[where][2:]  # a right-to-left mark
    error = refusal(labs=[entry])
    assert error.field == f"labs[1].{where}" and "U+200F RIGHT-TO-LEFT MARK" in error.problem


def test_a_result_before_birth_is_refused():
    error = refusal(labs=[lab(day=date(2026, 1, 1))])
    assert error.field == "labs[1].date" and "before the birth date" in error.problem


# -- genotype and medications -------------------------------------------------------------------------

def test_genotype_absent_partial_and_whole():
    assert patient().genotype == Genotype(None, None) and not patient().genotype.known
    assert patient(genotype={"tpmt": "intermediate"}).genotype == Genotype("intermediate", None)
    both = patient(genotype={"tpmt": "poor", "nudt15": "normal"}).genotype
    assert (both.tpmt, both.nudt15) == ("poor", "normal") and both.known


@pytest.mark.parametrize("table,field", [({"tpmt": "unknown"}, "genotype.tpmt"), ({"nudt15": "*3/*3"}, "genotype.nudt15"),
                                         ({"tpmt": "Normal"}, "genotype.tpmt")])
def test_a_phenotype_not_normal_intermediate_or_poor_is_refused(table, field):
    error = refusal(genotype=table)
    assert error.field == field and "'normal', 'intermediate', 'poor'" in error.problem and "leave the line out" in error.fix


def test_an_unknown_gene_is_refused():
    error = refusal(genotype={"tpmt": "normal", "cyp2d6": "normal"})
    assert error.field == "genotype.cyp2d6"


def test_medications_as_written():
    infant = patient(medications=[{"name": "co-trimoxazole"}, {"name": " omeprazole "}])
    assert infant.medications == ("co-trimoxazole", "omeprazole")
    assert patient().medications == ()


@pytest.mark.parametrize("name,problem", [("", "non-empty"), ("   ", "non-empty"), (3, "non-empty"),
                                          ("omep\u202erazole", "U+202E RIGHT-TO-LEFT OVERRIDE")])
def test_a_medication_name_empty_or_hidden_is_refused(name, problem):
    error = refusal(medications=[{"name": "co-trimoxazole"}, {"name": name}])
    assert error.field == "medications[2].name" and problem in error.problem


# -- latest(): the newest result in the window -----------------------------------------------------------

def test_latest_within_the_window_and_at_its_edge():
    # Day 1 is 2026-06-10, a 3-day window: 2026-06-07 (10 - 3) is inside, 2026-06-06 is not, nor 2026-06-11.
    infant = patient(labs=[lab(value="0.4 10^9/L", day=date(2026, 6, 6)),
                           lab(value="0.7 10^9/L", day=date(2026, 6, 7)),
                           lab("platelets", "80 10^9/L", date(2026, 6, 9)),
                           lab(value="0.9 10^9/L", day=date(2026, 6, 11))])
    chosen = latest(infant, "anc", date(2026, 6, 10), 3)
    assert chosen.entry == 2 and chosen.value.magnitude == 0.7
    assert latest(infant, "anc", date(2026, 6, 10), 2) is None  # 2026-06-08 to 06-10: nothing
    assert latest(infant, "anc", date(2026, 6, 9), 3).entry == 2  # 06-06 to 06-09: the 7th is newer
    assert latest(infant, "anc", date(2026, 6, 11), 0).entry == 4  # the day itself is inside
    assert latest(infant, "wbc", date(2026, 6, 10), 30) is None


def test_latest_takes_the_newest_by_time_then_the_later_entry():
    infant = patient(labs=[lab(value="0.6 10^9/L", time="18:00"), lab(value="0.5 10^9/L", time="07:00"),
                           lab(value="0.8 10^9/L", time="18:00")])
    assert latest(infant, "anc", date(2026, 6, 1), 0).entry == 3  # two at 18:00: the later entry, a correction
    # A methotrexate level given only by hours has no date: never the latest of anything.
    infant = patient(labs=[lab("methotrexate", "0.8 umol/L", None, hours_after_start=42)])
    assert latest(infant, "methotrexate", date(2026, 6, 1), 30) is None
    with pytest.raises(ValueError):
        latest(infant, "neutrophils", date(2026, 6, 1), 3)


def test_levels_by_hours_after_the_start():
    infant = patient(labs=[lab("methotrexate", "2.1 umol/L", None, hours_after_start=48),
                           lab(),
                           lab("methotrexate", "150 umol/L", None, hours_after_start=24),
                           lab("methotrexate", "0.3 umol/L", date(2026, 6, 1)),  # dated only: not placed on the table
                           lab("methotrexate", "12 umol/L", None, hours_after_start=36)])
    assert [(r.hours_after_start, r.value.m_as("umol/L"), r.entry) for r in levels(infant)] == [
        (24, 150, 3), (36, 12, 5), (48, 2.1, 1)]
    assert levels(patient()) == ()


# -- bedside Schwartz, worked by hand -------------------------------------------------------------------

def test_schwartz_worked_by_hand():
    # 0.413 × 72 cm / 0.3 mg/dL = 29.736 / 0.3 = 99.12 mL/min/1.73 m².
    egfr = schwartz_egfr(Q(0.3, "mg/dL"), Q(72, "cm"), 0.413)
    assert egfr.units == Q(1, EGFR_UNIT).units and egfr.magnitude == pytest.approx(99.12, abs=1e-9)
    # A length in mm or inches is the same length: 720 mm.
    assert schwartz_egfr(Q(0.3, "mg/dL"), Q(720, "mm"), 0.413).magnitude == pytest.approx(99.12, abs=1e-9)
    # Per 1.73 m², so per m² it is 99.12 / 1.73 = 57.295 mL/min/m².
    assert egfr.m_as("mL/min/m**2") == pytest.approx(57.2948, abs=1e-4)


def test_creatinine_umol_to_mg_dl():
    # 26.5 µmol/L ÷ 88.42 = 0.29971 mg/dL.
    assert CREATININE_UMOL_PER_L_PER_MG_DL == 88.42
    assert creatinine_mg_dl(Q(26.5, "umol/L")) == pytest.approx(0.2997, abs=5e-5)
    assert creatinine_mg_dl(Q(0.3, "mg/dL")) == 0.3
    # Then 0.413 × 72 / 0.299706 = 99.217 mL/min/1.73 m².
    assert schwartz_egfr(Q(26.5, "umol/L"), Q(72, "cm"), 0.413).magnitude == pytest.approx(99.217, abs=1e-3)


def test_the_schwartz_k_by_age_from_the_regimen_data():
    schwartz = load_schwartz(RESULTS_TOML)
    assert (schwartz.k_at(0).value, schwartz.k_at(0).tag) == (0.31, "P")
    assert (schwartz.k_at(1).value, schwartz.k_at(1).tag) == (0.413, "?")
    assert (schwartz.k_at(11).value, schwartz.k_at(11).tag) == (0.413, "?")
    assert (schwartz.k_at(12).value, schwartz.k_at(12).tag) == (0.413, "P")
    assert all("docs/reference.md §12" in schwartz.k_at(m).source for m in (0, 1, 12))


@pytest.mark.parametrize("taken,k,approximate", [
    (date(2026, 3, 9), 0.31, False),  # born 2026-02-10: 27 days, 0 completed months
    (date(2026, 3, 10), 0.413, True),  # one month: no validated k
    (date(2027, 2, 9), 0.413, True),  # 11 months
    (date(2027, 2, 10), 0.413, False),  # one year
])
def test_estimated_gfr_chooses_k_by_age_on_the_day_of_the_creatinine(taken, k, approximate):
    data = copy.deepcopy(BASE)
    data["patient"]["diagnosis_date"] = date(2026, 3, 1)
    data["measurements"] = [{"date": date(2026, 3, 1), "weight": "4.2 kg", "length": "55 cm"}]
    data["labs"] = [lab("creatinine", "0.25 mg/dL", taken)]
    infant = from_dict(data)
    estimate = estimated_gfr(infant, infant.labs[0], load_schwartz(RESULTS_TOML))
    # k × 55 cm / 0.25 mg/dL: 0.31 × 220 = 68.2; 0.413 × 220 = 90.86.
    assert estimate.egfr.magnitude == pytest.approx(k * 55 / 0.25)
    assert estimate.k.value == k and estimate.approximate is approximate
    assert estimate.length.m_as("cm") == 55 and estimate.creatinine is infant.labs[0]


# -- dimensions: a count is not a concentration ----------------------------------------------------------

def test_a_count_compares_exactly_and_never_with_a_concentration():
    (anc,) = patient(labs=[lab(value="0.5 10^9/L")]).labs
    assert anc.value == Q(0.5, "billion_cells_per_liter")  # the same unit: 0.5 against 0.5, exactly
    assert anc.value >= Q(0.5, "billion_cells_per_liter") and not anc.value > Q(0.5, "billion_cells_per_liter")
    assert anc.value.check("[cell_count] / [length] ** 3")
    assert anc.value.to("cell/L").magnitude == pytest.approx(5e8)
    creatinine = Q(22, "umol/L")
    with pytest.raises(pint.DimensionalityError):
        anc.value < creatinine
    with pytest.raises(pint.DimensionalityError):
        anc.value < Q(0.5, "1/L")  # a plain number per litre is not a count of cells either
    with pytest.raises(pint.DimensionalityError):
        creatinine_mg_dl(anc.value)
    with pytest.raises(pint.DimensionalityError):
        Q(98, "g/L") < Q(22, "umol/L")  # mass and amount of substance per volume differ too
    assert lab_unit_text(anc.value) == "× 10⁹/L" and lab_unit_text(creatinine) == "µmol/L"


# -- dates: a result after day 1 -------------------------------------------------------------------------

def _dates_check(infant, start=date(2026, 5, 5), **options):
    protocol = load_protocol()
    return dates.check(infant, protocol, load_phase(protocol, "induction"), start, today_is=date(2026, 5, 5), **options)


def test_a_result_dated_after_day_1_is_refused_naming_it_and_can_be_overridden():
    on_day_1 = lab(day=date(2026, 5, 5))
    assert _dates_check(patient(labs=[on_day_1])) == ()
    late = patient(labs=[on_day_1, lab("platelets", "80 10^9/L", date(2026, 5, 6))])
    with pytest.raises(InputError) as caught:
        _dates_check(late)
    assert caught.value.field == "labs[2].date"
    assert "labs[2] (platelets, 2026-05-06) is dated after day 1 2026-05-05" in caught.value.problem
    assert "--override-dates" in caught.value.fix
    (finding,) = _dates_check(late, override="result date confirmed with the laboratory")
    assert finding.facts.overridden and "platelets" in finding.facts.overridden[0]


def test_a_methotrexate_level_inside_the_phase_is_accepted_but_not_after_today():
    during = patient(labs=[lab("methotrexate", "0.8 umol/L", date(2026, 5, 5), hours_after_start=48)])
    assert _dates_check(during, start=date(2026, 5, 4)) == ()  # drawn after day 1, by today
    future = patient(labs=[lab("methotrexate", "0.8 umol/L", date(2026, 5, 6), hours_after_start=48)])
    with pytest.raises(InputError) as caught:
        _dates_check(future, start=date(2026, 5, 4))
    assert caught.value.field == "labs[1].date" and "after today 2026-05-05" in caught.value.problem


# -- the examples, and the second check's reader -----------------------------------------------------

def test_the_delayed_clearance_example():
    infant = load(EXAMPLES / "results" / "hd-mtx-delayed-clearance.toml")
    assert [(r.hours_after_start, r.value.m_as("umol/L")) for r in levels(infant)] == [
        (24, 150), (36, 12), (42, 6), (48, 2.1), (72, 0.8)]
    assert latest(infant, "anc", date(2026, 9, 1), 3).value == Q(1.2, "billion_cells_per_liter")
    creatinine = latest(infant, "creatinine", date(2026, 9, 1), 3)
    # 6 months old on 2026-08-31 (born 2026-02-20): k 0.413, a placeholder; 0.413 × 66 / (22 / 88.42) = 109.55.
    estimate = estimated_gfr(infant, creatinine, load_schwartz(RESULTS_TOML))
    assert estimate.approximate and estimate.egfr.magnitude == pytest.approx(0.413 * 66 / (22 / 88.42))
    assert estimate.egfr.magnitude == pytest.approx(109.55, abs=0.01)
    assert infant.genotype == Genotype("normal", "normal")
    assert infant.medications == ("co-trimoxazole", "omeprazole")


def test_the_maintenance_example():
    infant = load(EXAMPLES / "results" / "maintenance-counts.toml")
    newest = latest(infant, "anc", date(2026, 9, 1), 7)
    assert newest.value.magnitude == 1.1 and newest.taken == datetime(2026, 8, 31, 8, 15)
    assert latest(infant, "wbc", date(2026, 8, 30), 30).value.magnitude == 3.8  # the month before
    assert latest(infant, "hemoglobin", date(2026, 9, 1), 7).value == Q(10.6, "g/dL")
    assert infant.genotype == Genotype("intermediate", "normal")


@pytest.mark.parametrize("example", ["hd-mtx-delayed-clearance", "maintenance-counts"])
def test_the_second_checks_reader_reads_a_file_with_results(example):
    from dosing.second_check.reader import body_on

    text = (EXAMPLES / "results" / f"{example}.toml").read_text(encoding="utf-8")
    assert "labs" in tomllib.loads(text)
    body = body_on(text, date(2026, 9, 1))
    assert body.measured == date(2026, 8, 31) and body.cm in (66, 76)
