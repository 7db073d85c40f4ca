"""`dosing sheet --format fhir`: the orders as a FHIR R4B Bundle, compared value by value with the JSON orders (issue 17)."""

import json
import sys

import attrs
import pytest

from dosing.errors import RegimenError
from dosing.fhir.codes import load_terminology
from tests.conftest import ROOT, centre_regimens, orders_json

EXAMPLES = sorted((ROOT / "examples").glob("*.toml"))
START = "2026-06-01"
RXNORM, SNOMED, UCUM = "http://www.nlm.nih.gov/research/umls/rxnorm", "http://snomed.info/sct", "http://unitsofmeasure.org"
BASIS = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-normalization-basis"


def fhir(run, path, extra=()):
    status, out, err = run("sheet", path, "--phase", "induction", "--start", START, "--format", "fhir", *extra)
    assert status == 0, err
    return out


def requests(bundle):
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "MedicationRequest"]


def validated(bundle):
    """Every resource and the Bundle through the R4B models: an error here fails the test."""
    from fhir.resources.R4B import get_fhir_model_class
    from fhir.resources.R4B.bundle import Bundle

    Bundle.model_validate(bundle)
    for entry in bundle["entry"]:
        get_fhir_model_class(entry["resource"]["resourceType"]).model_validate(entry["resource"])
    return bundle


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_bundle_validates_and_matches_the_json_orders(run, path):
    orders = orders_json(run, path, start=START)
    bundle = validated(json.loads(fhir(run, path)))
    assert bundle["type"] == "collection"
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds[:4] == ["Patient", "Observation", "Observation", "CarePlan"]
    patient, weight, length, plan = (e["resource"] for e in bundle["entry"][:4])
    assert patient["identifier"][0]["value"] == orders["patient"]["id"]
    assert patient["birthDate"] == orders["patient"]["birth_date"]
    assert (weight["code"]["coding"][0]["code"], weight["valueQuantity"]["value"], weight["valueQuantity"]["code"]) == ("29463-7", orders["weight_kg"], "kg")
    assert (length["code"]["coding"][0]["code"], length["valueQuantity"]["value"], length["valueQuantity"]["code"]) == ("8302-2", orders["length_cm"], "cm")
    assert weight["effectiveDateTime"] == orders["measured"]
    assert plan["period"] == {"start": orders["start"], "end": orders["end"]}
    made = requests(bundle)
    assert len(made) == len(orders["administrations"])
    ucum = {"mg": "mg", "mcg": "ug", "units": "[iU]"}
    routes = {"PO": "26643006", "IV": "47625008", "INTRATHECAL": "72607000", "SC": "34206005", "IM": "78421000"}
    for given, request in zip(orders["administrations"], made):
        dosage = request["dosageInstruction"][0]
        quantity = dosage["doseAndRate"][0]["doseQuantity"]
        assert (quantity["value"], quantity["code"], quantity["system"], quantity["unit"]) == (given["dose_each"], ucum[given["unit"]], UCUM, given["unit"])
        assert dosage["route"]["coding"][0]["code"] == routes[given["route"]]
        assert dosage["timing"]["event"] == [given["date"]]
        assert request["status"] == ("draft" if orders["draft"] else "active")
        assert request["basedOn"][0]["reference"] == bundle["entry"][3]["fullUrl"]
        assert request["subject"]["reference"] == bundle["entry"][0]["fullUrl"]


def test_intrathecal_requests_cannot_be_mistaken(run):
    bundle = json.loads(fhir(run, ROOT / "examples/standard-risk.toml"))
    intrathecal = [r for r in requests(bundle) if r["dosageInstruction"][0]["route"]["coding"][0]["code"] == "72607000"]
    assert len(intrathecal) >= 3  # day 1: methotrexate, cytarabine, dexamethasone
    for request in intrathecal:
        dosage = request["dosageInstruction"][0]
        assert dosage["route"]["text"] == "INTRATHECAL USE ONLY"
        assert dosage["text"].startswith("INTRATHECAL USE ONLY. ")
    # day 1's methotrexate: 6 mg, a fixed dose of the age band (under 12 months), 0.24 mL of 25 mg/mL
    first = intrathecal[0]
    assert first["medicationCodeableConcept"]["coding"] == [{"system": RXNORM, "code": "6851", "display": "methotrexate"}]
    assert first["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 6.0
    assert "0.24 mL of preservative-free methotrexate injection 25 mg/mL" in first["dosageInstruction"][0]["text"]
    assert first["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "1157245009"  # fixed dose


def test_bsa_dose_pegaspargase_in_units_and_vincristine_in_tall_man(run):
    bundle = json.loads(fhir(run, ROOT / "examples/standard-risk.toml"))
    by_drug = {}
    for r in requests(bundle):
        by_drug.setdefault(r["medicationCodeableConcept"]["text"], r)
    peg = by_drug["PEG-asparaginase (pegaspargase)"]["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]
    # 1000 units/m2 × 0.332 m2 × 2/3 (age 4 months) = 221.33 units, rounded half up to the 5 units step: 220 units
    assert peg == {"value": 220.0, "unit": "units", "system": UCUM, "code": "[iU]"}
    vincristine = by_drug["vinCRIStine"]
    dosage = vincristine["dosageInstruction"][0]
    # 1.5 mg/m2 × 0.332 m2 × 2/3 = 0.332 mg, rounded half up to the 0.01 mg step: 0.33 mg
    assert dosage["doseAndRate"][0]["doseQuantity"]["value"] == 0.33
    assert dosage["text"].startswith("FOR INTRAVENOUS USE ONLY")
    assert "1.5 mg/m² × 0.332 m² × 2/3" in dosage["text"]
    basis = vincristine["extension"][0]
    assert basis["url"] == BASIS
    assert basis["valueCodeableConcept"] == {"coding": [{"system": SNOMED, "code": "301898006", "display": "Body surface area"}], "text": "1.5 mg/m2"}


def test_a_weight_dose_is_normalised_per_kg():
    """No example infant's induction has a per-kg dose: one of standard-risk's doses, re-said as a weight dose."""
    from datetime import date

    from dosing import patient as patients
    from dosing.fhir.bundle import orders_bundle
    from dosing.pipeline import calculate
    from dosing.regimen import load_phase, load_protocol

    protocol = load_protocol()
    orders = calculate(patients.load(ROOT / "examples/standard-risk.toml"), protocol, load_phase(protocol, "induction"), date(2026, 6, 1))
    first = orders.administrations[0]
    assert (first.drug, first.rule, first.basis_text) == ("dexamethasone", "BSA", "6 mg/m2/day")
    as_weight = attrs.evolve(first, rule="weight", size=orders.measurement.weight)
    bundle = validated(orders_bundle(attrs.evolve(orders, administrations=(as_weight,))))
    request = requests(bundle)[0]
    assert request["extension"][0]["valueCodeableConcept"]["coding"][0] == {"system": SNOMED, "code": "363804004",
                                                                           "display": "Body weight characteristic"}
    assert "6.4 kg" in request["dosageInstruction"][0]["text"]  # the working names the weight, not the BSA


def test_same_orders_give_identical_output(run):
    first = fhir(run, ROOT / "examples/turns-six-months.toml")
    assert first == fhir(run, ROOT / "examples/turns-six-months.toml")


def test_several_patients_give_one_bundle_each(run):
    out = json.loads(fhir(run, ROOT / "examples/standard-risk.toml", extra=()))
    assert out["resourceType"] == "Bundle"
    status, text, err = run("sheet", ROOT / "examples/standard-risk.toml", ROOT / "examples/turns-one-year.toml",
                            "--phase", "induction", "--start", START, "--format", "fhir")
    assert status == 0, err
    bundles = json.loads(text)
    assert [b["entry"][0]["resource"]["identifier"][0]["value"] for b in bundles] == ["MRN-100001", json.loads(
        fhir(run, ROOT / "examples/turns-one-year.toml"))["entry"][0]["resource"]["identifier"][0]["value"]]


def test_every_drug_and_route_the_regimens_order_has_a_code():
    from dosing.regimen import load_protocol, load_phase

    protocol = load_protocol()
    terminology = load_terminology(ROOT / "regimens", list(protocol.drugs))
    for name in protocol.phases:
        for order in load_phase(protocol, name).orders:
            assert terminology.drugs[order.drug.name]["rxnorm"].code
            assert terminology.routes[order.route].system == SNOMED
    assert {u: terminology.units[u].code for u in ("mg", "mcg", "units")} == {"mg": "mg", "mcg": "ug", "units": "[iU]"}
    assert terminology.units["units"].display == "units"


def test_a_drug_without_a_code_is_refused_naming_the_file_and_drug(tmp_path):
    copy = centre_regimens(tmp_path, "terminology.toml", "[drugs.mesna]\n", "[drugs_unused.mesna]\n")
    from dosing.regimen import load_protocol

    with pytest.raises(RegimenError, match=r"terminology\.toml: no code for the drug mesna"):
        load_terminology(copy, list(load_protocol(copy).drugs))


def _phase_cases():
    """One example in every phase, and the examples with results, as the golden copies run them (tests/golden.py)."""
    from golden import cases

    for name, argv in cases():
        if name.startswith("results-") or (name.startswith("kmt2a-rearranged__") and name.count("__") == 1):
            yield name, argv


@pytest.mark.parametrize("name,argv", list(_phase_cases()), ids=lambda value: value if isinstance(value, str) else "")
def test_every_phase_gives_a_valid_bundle_with_one_request_per_administration(name, argv):
    """Every phase's Bundle (12 phases, and high-dose methotrexate with its levels) validates and holds each JSON administration."""
    from fhir.resources.R4B.bundle import Bundle

    from golden import GOLDEN, orders

    golden = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    assert "exit" not in golden, name
    text = orders([("fhir" if a == "json" else a) for a in argv])
    bundle = Bundle.model_validate_json(text)  # the standard's own model: raises on anything R4B does not allow
    requests = [e.resource for e in bundle.entry if e.resource.__resource_type__ == "MedicationRequest"]
    assert len(requests) == len(golden["administrations"]) > 0, name
    for request, given in zip(requests, golden["administrations"]):
        dose = request.dosageInstruction[0].doseAndRate[0].doseQuantity
        # FHIR's doseQuantity is one dose: the JSON's dose_each where a day's dose is divided (0.35 mg three times = 1.05 mg)
        assert float(dose.value) == pytest.approx(given.get("dose_each") or given["dose"]), (name, given["drug"], given["day"])
