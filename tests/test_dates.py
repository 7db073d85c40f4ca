"""Dates that make sense: every day 1 checked against the protocol's [dates] limits and the patient file.

The patient is conftest's infant, diagnosed 2026-05-04. The limits (regimens/all-baby-2021/protocol.toml
[dates], tag A): induction within 14 days of diagnosis; a measurement at most 30 days old on day 1; a first
printed date more than 30 days from today is a warning. Phase lengths (tag A/S in the phase files): induction
36 days, consolidation 42, re-induction 14; the blocks start 21 days apart. Every test takes 2026-06-01 as
today (conftest sets DOSING_TODAY) unless it says otherwise.
"""

import json
import shutil
from datetime import date

import pytest
from pypdf import PdfReader

from conftest import EXAMPLES, ROOT
from dosing import dates
from dosing import patient as patients
from dosing.documents.wording import sentences
from dosing.errors import InputError, RegimenError
from dosing.regimen import load_phase, load_protocol

DIAGNOSED = "2026-05-04"
REASON = "relapse protocol restarted after a treatment pause agreed with the family"


def weighed(*days):
    return [{"date": day, "weight": "6.2 kg", "length": "63 cm"} for day in days]


def sr_mrd_negative():
    """Germline KMT2A, day-36 MRD 0.05 % (below 0.1 %): the consolidation path."""
    return {"disease": {"kmt2a": "germline", "cns": "CNS1"},
            "mrd": [{"timepoint": "day36", "method": "flow", "value": "0.05 %"}]}


def check(patient_file, phase, start, today_is=date(2026, 6, 1), first_printed=None, override=None, **changes):
    protocol = load_protocol()
    patient = patients.load(patient_file(**changes))
    found = dates.check(patient, protocol, load_phase(protocol, phase), date.fromisoformat(start),
                        first_printed=first_printed, today_is=today_is, override=override)
    return tuple(sentences(found))  # the notices (findings) as the sheet words them


def refused(patient_file, phase, start, **changes) -> InputError:
    with pytest.raises(InputError) as caught:
        check(patient_file, phase, start, **changes)
    return caught.value


# -- induction: on or after diagnosis, within 14 days -------------------------------


def test_induction_within_14_days_of_diagnosis(patient_file):
    # 2026-05-04 + 14 days = 2026-05-18: at the limit, accepted; 2026-05-19 (15 days) refused.
    assert check(patient_file, "induction", "2026-05-04") == ()  # day 1 on the diagnosis date
    assert check(patient_file, "induction", "2026-05-18") == ()
    error = refused(patient_file, "induction", "2026-05-19")
    assert error.field == "--start"
    assert error.problem == "induction day 1 2026-05-19 is 15 days after the diagnosis date 2026-05-04 (induction starts within 14 days of diagnosis)"
    assert "check the start date (and the diagnosis date in the patient file)" in error.fix and '--override-dates "REASON"' in error.fix


def test_induction_before_diagnosis_is_refused_whatever_the_reason(patient_file):
    with pytest.raises(InputError, match="2026-05-03 is before the diagnosis date 2026-05-04"):
        check(patient_file, "induction", "2026-05-03", override=REASON)


# -- a later phase: not before the phases before it could have ended ----------------


@pytest.mark.parametrize("phase, earliest, how", [
    # Consolidation path: 2026-05-04 + 36 = 2026-06-09; + 42 = 2026-07-21 (re-induction 1);
    # maintenance + 36 + 42 + 14 + 42 + 14 + 42 = 190 days = 2026-11-10 (27 days to 31 May, +30 +31 +31 +30 +31 = 180 to 31 Oct, +10).
    ("consolidation_1", "2026-06-09", "diagnosed 2026-05-04, then induction 36 days"),
    ("reinduction_1", "2026-07-21", "diagnosed 2026-05-04, then induction 36 days, consolidation_1 42 days"),
    ("maintenance", "2026-11-10", "diagnosed 2026-05-04, then induction 36 days, consolidation_1 42 days, reinduction_1 14 days, "
                                  "consolidation_2 42 days, reinduction_2 14 days, consolidation_3 42 days"),
])
def test_earliest_start_on_the_consolidation_path(patient_file, phase, earliest, how):
    patient = patients.load(patient_file(**sr_mrd_negative()))
    assert dates.earliest_start(patient, load_protocol(), phase) == (date.fromisoformat(earliest), how)


def test_earliest_start_on_the_block_path_and_off_the_pathway(patient_file):
    protocol = load_protocol()
    # IR (rearranged, CNS1), positive day 36, negative by PCR after HR1: HR1 2026-06-09, then blocks 21 days apart:
    # HR2 2026-06-30, HR3 2026-07-21, protocol II 2026-08-11, maintenance + 49 days = 2026-09-29.
    blocks = patients.load(patient_file(mrd=[{"timepoint": "day36", "method": "PCR", "value": "0.5 %"},
                                             {"timepoint": "after_HR1", "method": "PCR", "result": "negative"}]))
    assert dates.earliest_start(blocks, protocol, "HR2")[0] == date(2026, 6, 30)
    assert dates.earliest_start(blocks, protocol, "maintenance")[0] == date(2026, 9, 29)
    # HR1 is not on the consolidation path: ordered anyway, it still comes after induction: 2026-06-09.
    consolidation = patients.load(patient_file(**sr_mrd_negative()))
    assert dates.earliest_start(consolidation, protocol, "HR1") == (date(2026, 6, 9), "diagnosed 2026-05-04, then induction 36 days")


def test_a_phase_before_the_one_it_follows_could_end_is_refused(patient_file):
    # Consolidation 1 from 2026-06-09 at the earliest; weighed 2026-06-05 so the weight is recent.
    assert check(patient_file, "consolidation_1", "2026-06-09", measurements=weighed("2026-06-05"), **sr_mrd_negative()) == ()
    error = refused(patient_file, "consolidation_1", "2026-06-08", measurements=weighed("2026-06-05"), **sr_mrd_negative())
    assert error.field == "--start"
    assert error.problem == ("Consolidation 1 cannot start before 2026-06-09: 2026-06-08 is 1 day too early "
                             "(diagnosed 2026-05-04, then induction 36 days)")
    assert error.fix.startswith("check the start date (2026-06-09 or later)")


def test_nothing_starts_after_the_protocol_ends(patient_file):
    # Maintenance ends 104 weeks after diagnosis: 2026-05-04 + 728 days = 2028-05-01, so the last day is 2028-04-30
    # (2028 is a leap year). A 2-year-old's measurement (12 kg, 87 cm) the day before.
    two = [{"date": "2028-04-29", "weight": "12 kg", "length": "87 cm"}]
    notices = check(patient_file, "consolidation_3", "2028-04-30", measurements=two, **sr_mrd_negative())
    assert not any("end of the protocol" in n for n in notices)
    error = refused(patient_file, "consolidation_3", "2028-05-01", measurements=two, **sr_mrd_negative())
    assert "2028-05-01 is after the end of the protocol, 2028-04-30 (maintenance ends 104 weeks after diagnosis)" in error.problem


# -- the measurement: at most 30 days old on day 1 -----------------------------------


def test_a_measurement_older_than_30_days_is_refused(patient_file):
    # Consolidation 1 on 2026-06-09; weighed 2026-05-10: 30 days before, accepted; on 2026-06-10, 31 days: refused.
    assert check(patient_file, "consolidation_1", "2026-06-09", measurements=weighed("2026-05-10"), **sr_mrd_negative()) == ()
    error = refused(patient_file, "consolidation_1", "2026-06-10", measurements=weighed("2026-05-10"), **sr_mrd_negative())
    assert error.field == "measurements"
    assert error.problem == ("the weight and length used were measured 2026-05-10, 31 days before day 1 2026-06-10 "
                             "(a sheet uses a measurement at most 30 days old)")
    assert error.fix.startswith("weigh and measure the infant and add a [[measurements]] entry, or check the start date")
    # The newest measurement on or before day 1 is the one used: a new one clears it.
    assert check(patient_file, "consolidation_1", "2026-06-10", measurements=weighed("2026-05-10", "2026-06-08"), **sr_mrd_negative()) == ()


# -- the override: a reason, printed with what it overrides ---------------------------


def test_the_override_states_what_it_overrides_and_why(patient_file):
    notices = check(patient_file, "induction", "2026-05-19", override=REASON)
    assert notices == (f"DATES OVERRIDE: induction day 1 2026-05-19 is 15 days after the diagnosis date 2026-05-04 "
                       f"(induction starts within 14 days of diagnosis). Ordered anyway for this reason: {REASON}",)
    assert check(patient_file, "induction", "2026-05-05", override=REASON) == (
        f"DATES OVERRIDE: no date check needed it. Ordered anyway for this reason: {REASON}",)


# -- far from today: a warning only --------------------------------------------------


@pytest.mark.parametrize("today_is, warned", [
    # Day 1 2026-05-05: today 2026-06-04 is 30 days later (no warning), 2026-06-05 31 days (warning);
    # today 2026-04-04 is 31 days earlier (warning), 2026-04-05 30 days (none).
    (date(2026, 6, 4), None),
    (date(2026, 6, 5), "Day 1 (2026-05-05) is 31 days in the past (today is 2026-06-05): check the date."),
    (date(2026, 4, 5), None),
    (date(2026, 4, 4), "Day 1 (2026-05-05) is 31 days in the future (today is 2026-04-04): check the date."),
])
def test_a_start_far_from_today_is_a_warning(patient_file, today_is, warned):
    notices = check(patient_file, "induction", "2026-05-05", today_is=today_is)
    if warned is None:
        assert notices == ()
    else:
        assert len(notices) == 1 and notices[0].startswith(warned)
        assert notices[0].endswith("Sheets are made for a phase about to start (within 30 days of today).")


def test_a_window_is_judged_by_its_first_printed_date(patient_file):
    # Maintenance from 2026-11-10 (the earliest, above), weighed the day before; today 2026-06-01.
    # Its 8 weeks from 2026-06-15 are not the point here: the first printed date 2027-03-01 is 273 days ahead
    # (30 days in June, 31 + 31 + 30 + 31 + 30 + 31 + 31 + 28 to the end of February = 273).
    notices = check(patient_file, "maintenance", "2026-11-10", first_printed=date(2027, 3, 1),
                    measurements=weighed("2026-11-09"), **sr_mrd_negative())
    assert notices[0].startswith("The first date printed (2027-03-01) is 273 days in the future (today is 2026-06-01)")


def test_today_comes_from_the_option_then_the_environment(monkeypatch):
    monkeypatch.setenv("DOSING_TODAY", "2026-07-15")
    assert dates.today() == date(2026, 7, 15)
    assert dates.today(date(2026, 1, 2)) == date(2026, 1, 2)
    monkeypatch.setenv("DOSING_TODAY", "15/07/2026")
    with pytest.raises(InputError, match="DOSING_TODAY: '15/07/2026' is not a date"):
        dates.today()
    monkeypatch.delenv("DOSING_TODAY")
    assert dates.today() == date.today()


# -- the command line -------------------------------------------------------------


def test_the_fault_run_a_one_digit_year_slip_is_refused(run, tmp_path):
    # examples/standard-risk.toml: diagnosed 2026-05-28, weighed 2026-05-29. Day 1 typed 2027-06-01 for 2026-06-01:
    # 2026-05-28 -> 2027-05-28 is 365 days, + 4 = 369 days after diagnosis; the weight 368 days old;
    # 365 days after today (2026-06-01).
    status, out, err = run("sheet", EXAMPLES / "standard-risk.toml", "--phase", "induction", "--start", "2027-06-01",
                           "--out", tmp_path / "out")
    assert status == 3 and out == "" and not (tmp_path / "out").exists()
    assert "--start: induction day 1 2027-06-01 is 369 days after the diagnosis date 2026-05-28" in err
    assert "the weight and length used were measured 2026-05-29, 368 days before day 1 2027-06-01" in err
    assert "day 1 (2027-06-01) is 365 days in the future (today is 2026-06-01)" in err
    assert "check the start date" in err and '--override-dates "REASON"' in err
    # The intended date is a sheet.
    status, _, err = run("sheet", EXAMPLES / "standard-risk.toml", "--phase", "induction", "--start", "2026-06-01",
                         "--out", tmp_path / "out")
    assert status == 0, err


def test_the_override_is_printed_on_every_page_recorded_and_redone_by_verify(run, tmp_path):
    out = tmp_path / "out"
    reason = "day 1 delayed by a line infection, agreed with the consultant"
    # Standard-risk infant, diagnosed 2026-05-28: induction on 2026-06-12 is 15 days after diagnosis.
    args = ["sheet", EXAMPLES / "standard-risk.toml", "--phase", "induction", "--start", "2026-06-12"]
    status, _, err = run(*args, "--format", "json")
    assert status == 3 and "15 days after the diagnosis date 2026-05-28" in err
    status, printed, _ = run(*args, "--format", "json", "--override-dates", reason)
    assert status == 0
    assert json.loads(printed)["warnings"][0] == (
        "DATES OVERRIDE: induction day 1 2026-06-12 is 15 days after the diagnosis date 2026-05-28 "
        f"(induction starts within 14 days of diagnosis). Ordered anyway for this reason: {reason}")
    status, _, err = run(*args, "--out", out, "--documents", "orders,intrathecal", "--override-dates", reason)
    assert status == 0, err
    for pdf in out.glob("*.pdf"):
        for page in PdfReader(pdf).pages:
            text = " ".join(page.extract_text().split())
            assert f"DATES OVERRIDE: {reason.upper()}" in text, pdf.name  # the page header, in capitals like the pathway's
    status, said, _ = run("verify", out / "MRN-100001_induction_2026-06-12_orders.pdf")
    assert status == 0 and "every dose still matches" in said
    # The reason is an option of the issue: the same sheet without it is a new version that says so.
    status, _, _ = run(*args, "--out", out, "--documents", "orders", "--override-dates", "line infection, consultant agreed to delay")
    assert status == 0
    status, said, _ = run("verify", out / "MRN-100001_induction_2026-06-12_orders.pdf")
    assert status == 3 and f"options changed: override_dates {reason} -> line infection, consultant agreed to delay" in said


def test_today_on_the_command_line(run):
    args = ["sheet", EXAMPLES / "standard-risk.toml", "--phase", "induction", "--start", "2026-06-01", "--format", "json"]
    status, printed, _ = run(*args)  # today 2026-06-01 (DOSING_TODAY): no warning
    assert status == 0 and not any("(today is" in w for w in json.loads(printed)["warnings"])
    status, printed, _ = run(*args, "--today", "2026-07-02")  # 31 days later
    assert status == 0
    assert any(w.startswith("Day 1 (2026-06-01) is 31 days in the past (today is 2026-07-02)") for w in json.loads(printed)["warnings"])
    status, _, err = run(*args, "--today", "2 July")
    assert status == 2 and "'2 July' is not a date" in err


def test_a_resumed_blinatumomab_course_is_checked_too(run, tmp_path):
    # kmt2a-rearranged.toml: diagnosed and weighed 2026-05-30. Course from 2026-07-06: the weight is 37 days old.
    args = ["blinatumomab-resume", EXAMPLES / "kmt2a-rearranged.toml", "--start", "2026-07-06", "--override-pathway",
            "blinatumomab ordered by the tumour board", "--stopped", "2026-07-08 14:30", "--restart", "2026-07-09 10:00", "--format", "json"]
    status, _, err = run(*args)
    assert status == 3 and "measurements: the weight and length used were measured 2026-05-30, 37 days before day 1 2026-07-06" in err
    status, _, err = run(*args, "--override-dates", "course started on the diagnosis weight, confirmed by the ward")
    assert status == 0, err
    # sr-moves-to-high-risk.toml was weighed again on 2026-07-03, 7 days before 2026-07-10: no reason needed.
    status, _, err = run("blinatumomab-resume", EXAMPLES / "sr-moves-to-high-risk.toml", "--start", "2026-07-10",
                         "--stopped", "2026-07-12 14:30", "--restart", "2026-07-13 10:00", "--format", "json")
    assert status == 0, err


# -- the limits are regimen data --------------------------------------------------


def regimen_copy(tmp_path, old, new):
    copy = tmp_path / "regimens"
    shutil.copytree(ROOT / "regimens", copy)
    path = copy / "all-baby-2021" / "protocol.toml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return copy


def test_the_limits_carry_their_provenance():
    limits = dates.load_limits(load_protocol())
    assert (limits.induction_within_days.value, limits.measurement_max_age_days.value, limits.far_from_today_days.value) == (14, 30, 30)
    assert {v.tag for v in (limits.induction_within_days, limits.measurement_max_age_days, limits.far_from_today_days)} == {"A"}
    assert "MGB/Dana-Farber" in limits.measurement_max_age_days.source


@pytest.mark.parametrize("old, new, says", [
    ("induction_within_days = { value = 14,", "induction_within_days = { value = 1.5,", "induction_within_days must be a whole number of days"),
    ('measurement_max_age_days = { value = 30, tag = "A"', "measurement_max_age_days = { value = 30", "no valid provenance tag"),
    ("far_from_today_days = { value = 30,", "far_from_today_days = { value = 0,", "far_from_today_days must be a whole number of days, 1 or more"),
    ("[dates]", "[dates]\nweight_max_age_days = 30", "'weight_max_age_days' is not a field of \\[dates\\]"),
])
def test_bad_limits_refuse_with_the_line(tmp_path, old, new, says):
    copy = regimen_copy(tmp_path, old, new)
    with pytest.raises(RegimenError, match=says) as caught:
        dates.load_limits(load_protocol(copy))
    assert caught.value.line is not None


def test_without_the_dates_table_no_sheet_is_made(run, tmp_path):
    copy = tmp_path / "regimens"
    shutil.copytree(ROOT / "regimens", copy)
    path = copy / "all-baby-2021" / "protocol.toml"
    lines = path.read_text().splitlines()
    first = lines.index("[dates]")
    last = next(n for n in range(first + 1, len(lines)) if not lines[n].strip())  # the table ends at the blank line
    path.write_text("\n".join(lines[:first] + lines[last:]) + "\n")
    status, _, err = run("sheet", EXAMPLES / "standard-risk.toml", "--phase", "induction", "--start", "2026-06-01",
                         "--format", "json", "--regimens", copy)
    assert status == 3 and "[dates] is missing or not a table" in err


def test_a_centre_can_set_its_own_limits(run, tmp_path):
    # A centre allowing 21 days from diagnosis: the standard-risk infant's 2026-06-12 (15 days) is then a sheet.
    copy = regimen_copy(tmp_path, "induction_within_days = { value = 14,", "induction_within_days = { value = 21,")
    status, _, err = run("sheet", EXAMPLES / "standard-risk.toml", "--phase", "induction", "--start", "2026-06-12",
                         "--format", "json", "--regimens", copy)
    assert status == 0, err
