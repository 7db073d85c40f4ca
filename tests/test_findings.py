"""The checks as structured findings (dosing.findings): typed facts, found once, worded by dosing.documents.wording."""

from datetime import date, time
from fractions import Fraction

import attrs
import pytest

from conftest import EXAMPLES
from dosing import dates, fluid, findings, growth, pipeline
from dosing import patient as patients
from dosing.documents.wording import for_administrations, notices, sentences
from dosing.findings import NOTICE, WARNING
from dosing.pipeline import calculate
from dosing.regimen import load_phase, load_protocol
from dosing.units import Q


def phase_of(example, phase="induction", start=date(2026, 6, 1), patient=None, **options):
    protocol = load_protocol()
    patient = patient or patients.load(EXAMPLES / example)
    return calculate(patient, protocol, load_phase(protocol, phase), start, **options)


def found(orders, code):
    return [f for f in orders.findings if f.code == code]


def test_turning_six_months_changes_the_fraction_on_day_20():
    # Kuznetsov, born 2025-12-20: 5 months on day 1 (2026-06-01), 6 months on 2026-06-20 = day 20: 2/3 on
    # days 1-19, 3/4 from day 20. Dexamethasone PO is daily, so it changes between days 19 and 20;
    # vinCRIStine and DAUNOrubicin next fall on day 22.
    orders = phase_of("turns-six-months.toml")
    changes = {f.subject: f for f in found(orders, "fraction change")}
    assert list(changes) == ["dexamethasone PO", "vinCRIStine IV", "DAUNOrubicin IV"]
    dex = changes["dexamethasone PO"]
    assert attrs.astuple(dex.facts) == (20, date(2026, 6, 20), 6, Fraction(2, 3), Fraction(3, 4))
    assert [a.day for a in dex.administrations] == [19, 20] and dex.severity == WARNING
    assert (changes["vinCRIStine IV"].facts.day, changes["vinCRIStine IV"].facts.before) == (22, Fraction(2, 3))
    assert sentences([dex]) == ["dexamethasone PO: the infant fraction changes inside this phase from day 20 (20 Jun 2026, "
                                "age 6 months): 3/4 of the dose instead of 2/3 of the dose."]


def test_a_rounding_change_of_9_6_percent():
    # standard-risk: 6.4 kg, 62 cm: BSA √(62 × 6.4 ÷ 3600) = 0.3320 m²; born 2026-01-20, 4-5 months old: 2/3.
    # Dexamethasone taper, days 29-31: 3 mg/m²/day × 0.332 m² × 2/3 ÷ 3 doses = 0.22133 mg a dose; the 0.05 mg
    # step gives 4.43 steps -> 4 = 0.2 mg; (0.22133 − 0.2) ÷ 0.22133 = 9.64 %: above the 5 % warning, within
    # the 10 % bound, so given and found.
    orders = phase_of("standard-risk.toml")
    first = found(orders, "rounding")[0]
    assert first.subject == "dexamethasone PO" and first.facts.days == (29, 30, 31)
    assert first.facts.calculated == pytest.approx(0.221333, abs=1e-6) and first.facts.given == pytest.approx(0.2)
    assert f"{first.facts.unit:~P}" == "mg" and not first.facts.by_volume
    assert first.facts.change == pytest.approx(0.021333 / 0.221333, abs=1e-5)
    assert [a.day for a in first.administrations] == [29, 30, 31]
    assert sentences([first]) == ["dexamethasone PO days 29, 30, 31: rounding to the product step moves each dose by 9.6% "
                                  "(calculated 0.2213 mg, given 0.2 mg); check with the prescriber."]


def test_the_intrathecal_band_change_is_only_on_the_intrathecal_sheet():
    # Novak, born 2025-06-10: 12 months on 2026-06-10 (day 10); the triple INTRATHECAL on day 15 is in the
    # 12-to-24-month band: cytarabine 20 mg, where the doses before were 16 mg (under 12 months).
    orders = phase_of("turns-one-year.toml")
    bands = {f.subject: f for f in found(orders, "band change")}
    assert list(bands) == ["methotrexate INTRATHECAL", "cytarabine INTRATHECAL", "dexamethasone INTRATHECAL"]
    band = bands["cytarabine INTRATHECAL"]
    assert (band.subject, band.facts.day, band.facts.age_months) == ("cytarabine INTRATHECAL", 15, 12)
    assert (band.facts.before.text, band.facts.after.text) == ("16 mg", "20 mg")
    spinal = [a for a in orders.administrations if a.route == "INTRATHECAL"]
    systemic = [a for a in orders.administrations if a.route != "INTRATHECAL"]
    (text,) = sentences([band])
    assert text in for_administrations(orders, spinal) and text not in for_administrations(orders, systemic)
    assert text in for_administrations(orders)  # the JSON lists every warning


def test_anthracyclines_past_the_label_limit_for_young_children():
    # standard-risk with 55 mg doxorubicin given on 2026-05-29 (6.4 kg that day): 55 ÷ 6.4 = 8.594 mg/kg before;
    # induction DAUNOrubicin 6.6 mg on days 8 and 22: 13.2 ÷ 6.4 = 2.0625 mg/kg; after: 10.656 mg/kg, past
    # the 10 mg/kg label limit under 2 years (she is 5 months old at the end). In doxorubicin equivalents
    # 55 ÷ 0.332 + 13.2 ÷ 0.332 × 0.6 = 165.66 + 23.86 = 189.5 mg/m²: under 300, so no second finding.
    patient = patients.load(EXAMPLES / "standard-risk.toml")
    earlier = patients.AnthracyclineDose(date=date(2026, 5, 29), drug="doxorubicin", amount=Q(55, "mg"))
    orders = phase_of("standard-risk.toml", patient=attrs.evolve(patient, anthracyclines=(earlier,)))
    (limit,) = found(orders, "anthracycline limit")
    assert limit.facts.total == pytest.approx(55 / 6.4 + 13.2 / 6.4) and limit.facts.unit == "mg/kg"
    assert (limit.facts.limit, limit.facts.below_months) == (10, 24)
    assert {a.drug for a in limit.administrations} == {"daunorubicin"}
    # only on the documents that order DAUNOrubicin
    (text,) = sentences([limit])
    assert text.startswith("Cumulative anthracycline after this phase is 10.7 mg/kg, past the 10 mg/kg label limit for children under 2 years")
    assert text not in for_administrations(orders, [a for a in orders.administrations if a.drug != "daunorubicin"])


def test_fluid_and_the_assumed_infusion_start():
    # 2.4 kg: Holliday-Segar 2.4 × 100 = 240 mL a day; a 24-hour blinatumomab bag runs 10 mL/h = 240 mL a day,
    # above half of it (protocol.toml [fluid]); the 96-hour bag (2.5 mL/h, 60 mL a day) is the lower-volume option.
    patient = patients.load(EXAMPLES / "sr-moves-to-high-risk.toml")
    patient = attrs.evolve(patient, measurements=tuple(attrs.evolve(m, weight=Q(2.4, "kg")) for m in patient.measurements))
    orders = phase_of(None, "blinatumomab", date(2026, 7, 6), patient=patient)
    (excess,) = found(orders, "fluid")
    facts = excess.facts
    assert facts.maintenance.m_as("mL") == pytest.approx(240) and facts.share == Fraction(1, 2)
    assert facts.bags and facts.lower.hours == 96 and facts.lower.rate.m_as("mL/hour") == pytest.approx(2.5)
    assert dict(facts.worst.parts)["blinatumomab infusion"].m_as("mL") == pytest.approx(240)
    assert text_in(excess, for_administrations(orders))
    assert not text_in(excess, for_administrations(orders, [a for a in orders.administrations if a.route != "IV"]))
    # No --infusion-start: 08:00 is assumed, a notice on every document.
    (assumed,) = found(orders, "infusion start assumed")
    assert assumed.severity == NOTICE and assumed.facts.assumed == time(8, 0)
    assert notices(orders)[0].startswith("The infusion start time was not given: 08:00 is assumed")


def text_in(finding, texts) -> bool:
    return sentences([finding])[0] in texts


def test_dates_give_findings():
    # standard-risk, day 1 2026-06-01, made on 2026-08-01: 61 days in the past, more than 30.
    protocol = load_protocol()
    patient = patients.load(EXAMPLES / "standard-risk.toml")
    (far,) = dates.check(patient, protocol, load_phase(protocol, "induction"), date(2026, 6, 1), today_is=date(2026, 8, 1))
    assert far.code == "far from today" and far.severity == NOTICE
    assert attrs.astuple(far.facts) == (date(2026, 6, 1), True, -61, date(2026, 8, 1), 30)


def test_unmatched_allergy_is_a_notice_on_every_document():
    patient = attrs.evolve(patients.load(EXAMPLES / "standard-risk.toml"), allergies=("penicillin",))
    orders = phase_of(None, patient=patient)
    (entry,) = found(orders, "unmatched allergy")
    assert entry.facts.entry == "penicillin" and entry.severity == NOTICE
    text = "Recorded allergy 'penicillin' names no drug this tool knows, so it was not checked against these orders: check every order against it by hand."
    assert text in notices(orders) and text not in for_administrations(orders)  # the notices first, the warnings after them


def test_the_checks_run_once_for_all_the_documents_of_a_phase(run, monkeypatch, tmp_path):
    # Induction prints the order sheet, the INTRATHECAL sheet, the calendar and the record: the checks run
    # once, in the pipeline; each document only chooses among the findings.
    calls = {"find": 0, "growth": 0, "fluid": 0}

    def counted(name, real):
        def call(*args, **kwargs):
            calls[name] += 1
            return real(*args, **kwargs)
        return call

    monkeypatch.setattr(pipeline, "find", counted("find", findings.find))
    monkeypatch.setattr(growth, "check", counted("growth", growth.check))
    monkeypatch.setattr(fluid, "excess", counted("fluid", fluid.excess))
    status, _, err = run("sheet", EXAMPLES / "standard-risk.toml", "--phase", "induction", "--start", "2026-06-01",
                         "--format", "html", "--out", tmp_path / "out")
    assert status == 0, err
    assert len(list((tmp_path / "out").glob("*.html"))) == 4
    assert calls == {"find": 1, "growth": 1, "fluid": 1}


@pytest.mark.parametrize("before_kg, notice", [(6.09, True), (6.1, False), (6.4, False), (6.73, False), (6.74, True), (7.0, True)])
def test_the_weight_change_since_the_last_sheet_is_a_typed_notice_at_5_percent(before_kg, notice):
    # standard-risk weighs 6.4 kg now. A notice when |6.4 - before| / before >= 0.05 (protocol.toml [warnings]):
    # lighter before: (6.4 - b)/b >= 0.05 <=> b <= 6.4/1.05 = 6.0952: 6.09 yes (+5.09 %), 6.1 no (+4.92 %);
    # heavier before: (b - 6.4)/b >= 0.05 <=> b >= 6.4/0.95 = 6.7368: 6.73 no (-4.90 %), 6.74 yes (-5.04 %).
    orders = phase_of("standard-risk.toml")
    finding = findings.weight_change(orders, before_kg, "induction", "2026-05-01")
    assert (finding is not None) == notice
    if notice:
        assert finding.severity == NOTICE and (finding.facts.before_kg, finding.facts.now_kg) == (before_kg, 6.4)
        assert sentences([finding]) == [f"Weight changed by {(6.4 - before_kg) / before_kg:+.0%} since the last sheet issued for "
                                        f"this patient ({before_kg:g} kg, induction, issued 2026-05-01): check the weight and the doses."]
