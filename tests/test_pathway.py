"""Risk groups and the pathway, every branch and boundary of docs/reference.md §2."""

import json

import pytest

from conftest import EXAMPLES
from dosing.pathway import plan
from dosing.patient import load
from dosing.regimen import load_protocol

# docs/reference.md §2, as protocol.toml [pathway] writes it.
CONSOLIDATION_PATH = ("consolidation_1", "reinduction_1", "consolidation_2", "reinduction_2", "consolidation_3", "maintenance")
BLOCK_PATH = ("HR2", "HR3", "protocol_II", "maintenance")

CONSOLIDATION = ["induction", *CONSOLIDATION_PATH]
HIGH_RISK = ["blinatumomab", "HSCT"]


def mrd(timepoint, value, method="flow"):
    if value == "negative":
        return {"timepoint": timepoint, "result": "negative", "method": method}
    return {"timepoint": timepoint, "value": value, "method": method}


def result(patient_file, kmt2a="germline", cns="CNS1", results=(), remission=()):
    path = patient_file(disease={"kmt2a": kmt2a, "cns": cns}, mrd=list(results), remission=list(remission))
    return plan(load(path), load_protocol())


@pytest.mark.parametrize("kmt2a, cns, risk", [
    ("germline", "CNS1", "SR"), ("germline", "CNS3", "SR"),
    ("rearranged", "CNS1", "IR"), ("rearranged", "CNS2", "HR"), ("rearranged", "CNS3", "HR"),
])
def test_initial_risk(patient_file, kmt2a, cns, risk):
    assert result(patient_file, kmt2a, cns).initial_risk == risk


@pytest.mark.parametrize("value, phases, current", [
    ("0.09 %", CONSOLIDATION, "SR"),
    ("0.0999 %", CONSOLIDATION, "SR"),
    ("negative", CONSOLIDATION, "SR"),
    ("0.1 %", ["induction", *HIGH_RISK], "HR"),  # exactly 0.1 % is high risk (A, the safer reading)
    ("0.1001 %", ["induction", *HIGH_RISK], "HR"),
    ("2.5 %", ["induction", *HIGH_RISK], "HR"),
])
def test_standard_risk_day36_threshold(patient_file, value, phases, current):
    found = result(patient_file, results=[mrd("day36", value)])
    assert list(found.phases) == phases and found.current_risk == current and found.awaiting is None


def test_exactly_threshold_says_why(patient_file):
    found = result(patient_file, results=[mrd("day36", "0.1 %")])
    assert any("exactly 0.1 %" in r for r in found.reasons)


def test_standard_risk_awaiting(patient_file):
    found = result(patient_file)
    assert list(found.phases) == ["induction"] and found.awaiting == "day36 MRD"


def test_two_methods_the_higher_decides(patient_file):
    found = result(patient_file, results=[mrd("day36", "0.05 %", "flow"), mrd("day36", "0.2 %", "PCR")])
    assert found.current_risk == "HR"


@pytest.mark.parametrize("results, phases, current, awaiting", [
    ([mrd("day36", "negative", "PCR")], CONSOLIDATION, "IR", None),
    ([mrd("day36", "0 %", "PCR")], CONSOLIDATION, "IR", None),
    ([mrd("day36", "negative", "flow")], ["induction"], "IR", "day36 MRD"),  # molecular remission needs PCR
    ([], ["induction"], "IR", "day36 MRD"),
    ([mrd("day36", "0.04 %", "flow")], ["induction", "HR1"], "IR", "after_HR1 MRD"),
    ([mrd("day36", "0.001 %", "PCR")], ["induction", "HR1"], "IR", "after_HR1 MRD"),
    ([mrd("day36", "0.5 %", "PCR"), mrd("after_HR1", "negative", "PCR")], ["induction", "HR1", *BLOCK_PATH], "IR", None),
    ([mrd("day36", "0.5 %", "PCR"), mrd("after_HR1", "negative", "flow")], ["induction", "HR1"], "IR", "after_HR1 MRD"),
    ([mrd("day36", "0.5 %", "PCR"), mrd("after_HR1", "0.01 %", "PCR")], ["induction", "HR1", *HIGH_RISK], "HR", None),
])
def test_intermediate_risk(patient_file, results, phases, current, awaiting):
    found = result(patient_file, "rearranged", "CNS1", results)
    assert (list(found.phases), found.current_risk, found.awaiting) == (phases, current, awaiting)


@pytest.mark.parametrize("results", [[], [mrd("day36", "negative", "PCR")], [mrd("day36", "3 %", "PCR")]])
def test_high_risk_regardless_of_mrd(patient_file, results):
    found = result(patient_file, "rearranged", "CNS2", results, [{"timepoint": "day36", "in_remission": True}])
    assert list(found.phases) == ["induction", "HR1", *HIGH_RISK] and found.awaiting is None and not found.off_protocol


def test_not_in_remission_is_off_protocol(patient_file):
    found = result(patient_file, "rearranged", "CNS3", [], [{"timepoint": "day36", "in_remission": False}])
    assert found.off_protocol and list(found.phases) == ["induction"]
    found = result(patient_file, "rearranged", "CNS3", [], [{"timepoint": "day36", "in_remission": True}, {"timepoint": "after_HR1", "in_remission": False}])
    assert found.off_protocol and list(found.phases) == ["induction", "HR1"]


def test_plan_json(run, patient_file):
    # IR (rearranged, CNS1), day-36 PCR 0.5 %, after HR1 PCR negative: the block path.
    path = patient_file(mrd=[mrd("day36", "0.5 %", "PCR"), mrd("after_HR1", "negative", "PCR")])
    status, out, _ = run("plan", path, "--format", "json")
    data = json.loads(out)
    assert status == 0
    assert (data["initial_risk"], data["current_risk"], data["awaiting"]) == ("IR", "IR", None)
    assert data["phases"] == ["induction", "HR1", "HR2", "HR3", "protocol_II", "maintenance"]
    # Estimated from diagnosis 2026-05-04: induction 36 days (to 06-08); HR1 from 06-09;
    # blocks 21 days apart: HR2 06-30, HR3 07-21, protocol II 08-11 (49 days, to 09-28);
    # maintenance from 09-29 until 104 weeks after diagnosis: 2026-05-04 + 728 days = 2028-05-01
    # (2028 is a leap year), so the last day of maintenance is 2028-04-30.
    assert [(e["phase"], e["start"]) for e in data["estimated"]] == [
        ("induction", "2026-05-04"), ("HR1", "2026-06-09"), ("HR2", "2026-06-30"), ("HR3", "2026-07-21"),
        ("protocol_II", "2026-08-11"), ("maintenance", "2026-09-29")]
    assert data["estimated"][-1]["end"] == "2028-04-30"


def test_plan_text_for_an_example(run):
    status, out, _ = run("plan", EXAMPLES / "turns-six-months.toml")
    assert status == 0 and "HR at diagnosis" in out and "HSCT" in out and "referral" in out


def test_sheet_off_the_pathway_is_refused_with_the_way(run, patient_file, tmp_path):
    # SR with day-36 MRD 0.05 %: consolidation path; HR1 is not on it.
    path = patient_file(disease={"kmt2a": "germline", "cns": "CNS1"}, mrd=[mrd("day36", "0.05 %")])
    status, out, err = run("sheet", path, "--phase", "HR1", "--start", "2026-06-10", "--out", tmp_path / "out")
    assert status == 3 and "HR1 is not on this patient's pathway" in err and "consolidation_1" in err
    assert "--override-pathway" in err and not (tmp_path / "out").exists()


def test_sheet_awaiting_a_result_is_refused(run, patient_file):
    status, _, err = run("sheet", patient_file(), "--phase", "consolidation_1", "--start", "2026-06-10", "--format", "json")
    assert status == 3 and "awaiting the day36 MRD" in err


def test_override_is_printed_on_every_page_and_in_json(run, patient_file, tmp_path):
    # Weighed again on 2026-06-09: HR1 on 2026-06-10 may not use the weight at diagnosis, 37 days before (more than 30).
    weighed = [{"date": "2026-05-04", "weight": "6.2 kg", "length": "63 cm"}, {"date": "2026-06-09", "weight": "6.3 kg", "length": "63.5 cm"}]
    path = patient_file(disease={"kmt2a": "germline", "cns": "CNS1"}, mrd=[mrd("day36", "0.05 %")], measurements=weighed)
    reason = "Refractory disease on marrow review 12 June, tumour board decision"
    status, out, _ = run("sheet", path, "--phase", "HR1", "--start", "2026-06-10", "--format", "json", "--override-pathway", reason)
    assert status == 0 and json.loads(out)["override"] == reason
    status, _, _ = run("sheet", path, "--phase", "HR1", "--start", "2026-06-10", "--out", tmp_path / "out", "--override-pathway", reason)
    from pypdf import PdfReader
    for pdf in (tmp_path / "out").glob("*.pdf"):
        for page in PdfReader(pdf).pages:
            text = " ".join(page.extract_text().split())
            assert "PATHWAY OVERRIDE" in text and reason.upper() in text


def test_override_needs_a_reason(run, patient_file):
    status, _, err = run("sheet", patient_file(), "--phase", "HR1", "--start", "2026-06-10", "--override-pathway", "ok")
    assert status == 2 and "reason" in err
