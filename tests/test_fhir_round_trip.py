"""The round trip (issue 17, done when): FHIR in -> patient file -> orders -> FHIR out, same patient and doses.

examples/fhir/bundle-standard-risk.json goes through `dosing import-fhir`, the
patient file it writes through `dosing sheet --format fhir` and `--format json`,
all as real processes. The Bundle that comes out validates with the R4B models,
names the same patient as the Bundle that went in, and orders the same doses
(value, unit, route, day) as the JSON orders of the same file. Then the Bundle
that came out goes in again: the patient and the measurement the doses used
survive a second pass.
"""

import json
import subprocess
import sys
from datetime import date

import pytest
from fhir.resources.R4B.bundle import Bundle

from conftest import EXAMPLES, ROOT

from dosing.fhir.patient_in import patient_data

BUNDLE = EXAMPLES / "fhir" / "bundle-standard-risk.json"
SHEET = ("--phase", "induction", "--start", "2026-06-01")
# The JSON orders' units as UCUM writes them (https://ucum.org/ucum): ug for mcg, [iU] for units.
UCUM = {"mg": "mg", "mcg": "ug", "units": "[iU]"}
# Each route the JSON orders write, as the FHIR Bundle's route.text says it; SNOMED CT 72607000 is the
# intrathecal route (https://browser.ihtsdotools.org/?perspective=full&conceptId1=72607000).
INTRATHECAL = "72607000"


def dosing(*args):
    done = subprocess.run([sys.executable, "-m", "dosing", *map(str, args)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def trip(tmp_path_factory):
    folder = tmp_path_factory.mktemp("trip")
    patient = folder / "petrov.toml"
    dosing("import-fhir", BUNDLE, "--kmt2a", "germline", "--cns", "CNS1", "--out", patient)
    out = json.loads(dosing("sheet", patient, *SHEET, "--format", "fhir", "--out", folder / "sheets"))
    orders = json.loads(dosing("sheet", patient, *SHEET, "--format", "json", "--out", folder / "sheets"))
    return out, orders


def resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_the_bundle_out_validates_and_names_the_patient_that_came_in(trip):
    out, _ = trip
    Bundle.model_validate(out)
    sent = resources(json.loads(BUNDLE.read_text(encoding="utf-8")), "Patient")[0]
    back = resources(out, "Patient")
    assert len(back) == 1
    identifiers = [i["value"] for i in back[0]["identifier"]]
    assert identifiers == ["MRN-100001"] and "MRN-100001" in [i["value"] for i in sent["identifier"]]
    names = [n.get("text") or f"{n['family']}, {' '.join(n.get('given', []))}" for n in back[0]["name"]]
    assert names == ["Petrov, Mikhail"]
    assert back[0]["birthDate"] == sent["birthDate"] == "2026-01-20" and back[0]["gender"] == sent["gender"] == "male"


def test_the_same_doses_as_the_json_orders(trip):
    out, orders = trip
    start = date.fromisoformat(orders["start"])
    requests = resources(out, "MedicationRequest")
    assert len(requests) == len(orders["administrations"]) == 62
    for request, given in zip(requests, orders["administrations"]):
        dosage = request["dosageInstruction"][0]
        quantity = dosage["doseAndRate"][0]["doseQuantity"]
        day = (date.fromisoformat(dosage["timing"]["event"][0]) - start).days + 1
        assert given["drug"].lower() in request["medicationCodeableConcept"]["text"].lower()  # "peg-asparaginase (pegaspargase)"
        assert (quantity["value"], quantity["code"], day) == (given["dose_each"], UCUM[given["unit"]], given["day"])
        intrathecal = dosage["route"]["coding"][0]["code"] == INTRATHECAL
        assert intrathecal == (given["route"] == "INTRATHECAL")
        assert dosage["route"]["text"] == ("INTRATHECAL USE ONLY" if intrathecal else given["route"])
    # by hand (tests/golden): day 1 dexamethasone 6 mg/m2/day x 0.332 m2 x 2/3 / 3 doses = 0.4427 -> 0.45 mg PO
    first = requests[0]["dosageInstruction"][0]
    assert (first["doseAndRate"][0]["doseQuantity"]["value"], first["route"]["text"]) == (0.45, "PO")


def test_the_bundle_out_comes_in_again_as_the_same_patient(trip):
    out, orders = trip
    data = patient_data(out, {"kmt2a": "germline", "cns": "CNS1", "diagnosis_date": date(2026, 5, 28), "allergies": []})
    assert data["patient"] == {"id": "MRN-100001", "name": "Petrov, Mikhail", "sex": "male", "birth_date": date(2026, 1, 20),
                               "diagnosis_date": date(2026, 5, 28), "allergies": []}
    # the measurement the doses were computed from, and only that one (the Bundle out carries what was used)
    assert data["measurements"] == [{"date": date(2026, 5, 29), "weight": f"{orders['weight_kg']:g} kg",
                                     "length": f"{orders['length_cm']:g} cm"}] == [{"date": date(2026, 5, 29),
                                                                                    "weight": "6.4 kg", "length": "62 cm"}]
