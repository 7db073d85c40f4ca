"""WHO growth plausibility: our z-scores against rcpchgrowth's own, and the warnings."""

import pytest

from conftest import ROOT
from hypothesis import given, settings, strategies as st

from dosing.documents.wording import sentences
from dosing.findings import growth_findings
from dosing.growth import centile, z_score


@settings(max_examples=200, deadline=None)
@given(sex=st.sampled_from(["male", "female"]), kind=st.sampled_from(["weight", "height"]),
       days=st.integers(0, 1800), spread=st.floats(0.45, 1.8))
def test_z_scores_match_rcpchgrowth(sex, kind, days, spread):
    # The expected value comes from rcpchgrowth's full implementation (with SciPy), not from our code.
    from rcpchgrowth.global_functions import sds_for_measurement

    median = {"weight": 3.3 + days * 0.012, "height": 50 + days * 0.045}[kind]
    value = median * (spread if kind == "weight" else 0.8 + spread / 9)
    expected = sds_for_measurement(reference="who", age=days / 365.25, measurement_method=kind, observation_value=value, sex=sex)
    assert z_score(kind, sex, days, value) == pytest.approx(expected, abs=1e-9)


def test_centile_from_z():
    # Standard normal: z = -3.09 is the 0.1st centile, z = 0 the 50th, z = 3.09 the 99.9th
    assert centile(-3.0902) == pytest.approx(0.1, abs=1e-3)
    assert centile(0) == 50
    assert centile(3.0902) == pytest.approx(99.9, abs=1e-3)


def test_implausible_weight_warns_with_its_centile(run, patient_file):
    import json
    # A girl born 2026-02-10, weighed 2026-05-04 (83 days) at 3.0 kg: the WHO median is about 5.6 kg, z about -4.
    path = patient_file(measurements=[{"date": "2026-05-04", "weight": "3.0 kg", "length": "58 cm"}])
    status, out, err = run("sheet", path, "--phase", "induction", "--start", "2026-05-05", "--format", "json")
    data = json.loads(out)
    (warning,) = [w for w in data["warnings"] if w.startswith("Weight")]
    assert "below the 0.1st centile" in warning and "centile" in warning and "girl of 83 days" in warning


def test_ordinary_infant_has_no_growth_warning(run, patient_file):
    import json
    status, out, _ = run("sheet", patient_file(), "--phase", "induction", "--start", "2026-05-05", "--format", "json")
    assert not [w for w in json.loads(out)["warnings"] if "growth standard" in w]


@pytest.mark.parametrize("name, first_day, last_day", [("who_infants", 0, 730), ("who_children", 731, 1856)])
def test_the_who_tables_load_for_both_sexes(name, first_day, last_day):
    # growth.py reads rcpchgrowth's data files directly; if they moved or could not be read, the centile
    # warnings and the hard stops above the WHO standard would vanish. This test fails loudly instead.
    from dosing.growth import _tables

    tables = _tables(name)
    assert tables is not None, "rcpchgrowth is not installed: the growth checks would be skipped"
    for kind in ("weight", "height"):
        for sex in ("male", "female"):
            rows = tables[kind][sex]
            # Daily rows: 0-730 days of life (infants, recumbent length), 731 days to 5 years 1 month (children).
            assert round(rows[0]["decimal_age"] * 365.25) == first_day and round(rows[-1]["decimal_age"] * 365.25) == last_day
            assert len(rows) == last_day - first_day + 1
            assert all(row["L"] is not None and row["M"] > 0 and row["S"] > 0 for row in rows)


@pytest.mark.parametrize("days", [0, 83, 730, 731, 1093])
def test_every_age_on_the_protocol_has_a_z_score(days):
    # From birth to the oldest a child on the protocol can be (bounds.PROTOCOL_AGE_MAX_DAYS = 1093), for both sexes.
    for sex in ("male", "female"):
        for kind, value in (("weight", 8.0), ("height", 70.0)):
            assert z_score(kind, sex, days, value) is not None


def test_unreadable_who_tables_say_so_on_the_sheet_never_silently(run, patient_file, tmp_path, monkeypatch):
    # rcpchgrowth's data files with a field renamed (a new release's layout): the sheet is made, and
    # says in its warnings that weight and length were not checked, instead of printing no warning.
    import json

    from dosing import growth

    real = growth._data_directory()
    for name in ("who_infants", "who_children"):
        text = (real / f"{name}.json").read_text(encoding="utf-8")
        (tmp_path / f"{name}.json").write_text(text.replace('"decimal_age"', '"age_years"'), encoding="utf-8")
    monkeypatch.setattr(growth, "_data_directory", lambda: tmp_path)
    growth._tables.cache_clear()
    try:
        with pytest.raises(growth.Unreadable, match="who_infants.json from rcpchgrowth could not be read .KeyError"):
            growth._tables("who_infants")
        warnings = sentences(growth_findings(*_infant_and_measurement()))
        # and the patient file still loads (the hard stop above WHO +5 cannot be checked, and is not made up)
        from dosing.patient import load

        path = tmp_path / "patient.toml"
        path.write_text((ROOT / "examples" / "standard-risk.toml").read_text(encoding="utf-8"), encoding="utf-8")
        assert load(path).id == "MRN-100001"
        assert warnings == ["Weight and length were NOT checked against the WHO growth standard: who_infants.json from "
                            "rcpchgrowth could not be read (KeyError: 'decimal_age'). Check them on a centile chart by hand "
                            "before the doses are given."]
    finally:
        growth._tables.cache_clear()


def _infant_and_measurement():
    from datetime import date
    from types import SimpleNamespace

    from dosing.units import Q

    patient = SimpleNamespace(birth_date=date(2026, 2, 10), sex="female")
    return patient, SimpleNamespace(date=date(2026, 5, 4), weight=Q(6.2, "kg"), length=Q(63, "cm"))
