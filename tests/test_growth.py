"""WHO growth plausibility: our z-scores against rcpchgrowth's own, and the warnings."""

import pytest
from hypothesis import given, settings, strategies as st

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
