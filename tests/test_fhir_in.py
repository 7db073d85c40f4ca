"""`dosing import-fhir` and dosing.fhir.patient_in: a patient file from a FHIR R4 Bundle (issue 17, item 3).

Expected values are worked by hand from the Bundle (examples/fhir/bundle-standard-risk.json)
and the definitions of the units (1 [lb_av] = 0.45359237 kg, 1 [oz_av] = 28.349523125 g,
1 [in_i] = 2.54 cm exactly), never from the code under test. Every Bundle a test
feeds in is first checked to validate with the R4B models, so a refusal tested
here is this module's own, not fhir.resources'.
"""

import copy
import json
import subprocess
import sys
import tomllib
from datetime import date

import pytest
from fhir.resources.R4B.bundle import Bundle

from conftest import EXAMPLES, ROOT

from dosing import patient as patients
from dosing.errors import InputError
from dosing.fhir.patient_in import patient_data, patient_file

BUNDLE = EXAMPLES / "fhir" / "bundle-standard-risk.json"
OPTIONS = {"kmt2a": "germline", "cns": "CNS1"}
UCUM = "http://unitsofmeasure.org"


def example() -> dict:
    return json.loads(BUNDLE.read_text(encoding="utf-8"))


def valid(bundle: dict) -> dict:
    Bundle.model_validate(bundle)  # the R4B models accept it: what is tested below is the mapping
    return bundle


def imported(bundle: dict, defaults=OPTIONS) -> dict:
    return tomllib.loads(patient_file(valid(bundle), defaults))


def refused(bundle: dict, defaults=OPTIONS, check=True) -> InputError:
    with pytest.raises(InputError) as caught:
        patient_file(valid(bundle) if check else bundle, defaults)
    return caught.value


def only_pair(bundle: dict, weight: tuple, length: tuple) -> dict:
    """The example with one weight and one length on 2026-05-29, in the units given as (value, UCUM code)."""
    bundle["entry"] = [e for e in bundle["entry"] if not e["resource"].get("effectiveDateTime", "").startswith("2026-05-28")]
    for entry in bundle["entry"]:
        r = entry["resource"]
        if r["resourceType"] == "Observation" and r["code"]["coding"][0]["code"] in ("29463-7", "8302-2"):
            value, code = weight if r["code"]["coding"][0]["code"] == "29463-7" else length
            r["valueQuantity"] = {"value": value, "unit": code, "system": UCUM, "code": code}
    return bundle


def resource(bundle: dict, kind: str, n: int = 0) -> dict:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind][n]


# -- the mapping -------------------------------------------------------------------

def test_the_example_bundle_becomes_the_standard_risk_patient_file(tmp_path):
    text = patient_file(valid(example()), OPTIONS, name="bundle-standard-risk.json")
    assert text.startswith("# ALL-Baby-2021 patient file, written by dosing import-fhir from a FHIR Bundle: "
                           "bundle-standard-risk.json Bundle admission-2026-05-29-petrov of 2026-05-29T16:20:00+02:00.\n")
    data = tomllib.loads(text)
    assert data["patient"] == {"id": "MRN-100001", "name": "Petrov, Mikhail", "sex": "male", "birth_date": date(2026, 1, 20),
                               "diagnosis_date": date(2026, 5, 28), "allergies": []}
    assert data["disease"] == {"kmt2a": "germline", "cns": "CNS1"}
    # 13.9 [lb_av] x 0.45359237 = 6.30493 kg -> 6.305 kg (to the gram); 24.4 [in_i] x 2.54 = 61.976 cm -> 62 cm (to the mm);
    # 6400 g = 6.4 kg; 620 mm = 62 cm. The heart rate (LOINC 8867-4) is no measurement of the file.
    assert data["measurements"] == [{"date": date(2026, 5, 28), "weight": "6.305 kg", "length": "62 cm"},
                                    {"date": date(2026, 5, 29), "weight": "6.4 kg", "length": "62 cm"}]
    path = tmp_path / "imported.toml"
    path.write_text(text, encoding="utf-8")
    loaded, original = patients.load(path), patients.load(EXAMPLES / "standard-risk.toml")
    assert loaded.measurement_on(date(2026, 6, 1)) == original.measurement_on(date(2026, 6, 1))
    assert (loaded.id, loaded.name, loaded.sex, loaded.birth_date, loaded.diagnosis_date, loaded.allergies, loaded.kmt2a,
            loaded.cns) == (original.id, original.name, original.sex, original.birth_date, original.diagnosis_date,
                            original.allergies, original.kmt2a, original.cns)


@pytest.mark.parametrize("weight, length, written", [
    ((3200, "g"), (512, "mm"), ("3.2 kg", "51.2 cm")),  # grams and millimetres, divided by 1000 and 10
    ((6.4, "kg"), (24.8, "[in_i]"), ("6.4 kg", "63 cm")),  # 24.8 x 2.54 = 62.992 cm -> 63.0 -> "63 cm"
    ((14, "[lb_av]"), (0.62, "m"), ("6.35 kg", "62 cm")),  # 14 x 0.45359237 = 6.35029 kg -> 6.35
    ((220, "[oz_av]"), (63.5, "cm"), ("6.237 kg", "63.5 cm")),  # 220 x 28.349523125 g = 6236.895 g -> 6.237 kg
])
def test_each_ucum_unit_is_converted_as_the_file_writes_it(weight, length, written):
    found = imported(only_pair(example(), weight, length))["measurements"]
    assert found == [{"date": date(2026, 5, 29), "weight": written[0], "length": written[1]}]


def test_the_medical_record_number_is_preferred_and_a_lone_identifier_used():
    bundle = example()
    ids = resource(bundle, "Patient")["identifier"]
    ids.reverse()  # the account number first: MR still wins
    assert imported(bundle)["patient"]["id"] == "MRN-100001"
    resource(bundle, "Patient")["identifier"] = [{"system": "urn:oid:1.2.3", "value": "H-778"}]
    assert imported(bundle)["patient"]["id"] == "H-778"
    resource(bundle, "Patient")["identifier"] = [{"value": "H-778"}, {"value": "H-779"}]
    error = refused(bundle)
    assert error.field == "Bundle.entry[0].resource.identifier" and "MR" in error.fix


def test_the_official_name_family_then_given_names():
    bundle = example()
    resource(bundle, "Patient")["name"] = [{"use": "nickname", "given": ["Misha"]},
                                           {"use": "official", "family": "Petrov", "given": ["Mikhail", "Ivanovich"]}]
    assert imported(bundle)["patient"]["name"] == "Petrov, Mikhail Ivanovich"
    resource(bundle, "Patient")["name"] = [{"text": "Mikhail Petrov"}]
    assert imported(bundle)["patient"]["name"] == "Mikhail Petrov"


def test_the_diagnosis_date_from_the_condition_or_the_option():
    bundle = example()
    del resource(bundle, "Condition")["onsetDateTime"]  # recordedDate 2026-05-28T18:30:00+02:00: its day
    assert imported(bundle)["patient"]["diagnosis_date"] == date(2026, 5, 28)
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] != "Condition"]
    assert imported(bundle, {**OPTIONS, "diagnosis_date": date(2026, 5, 27)})["patient"]["diagnosis_date"] == date(2026, 5, 27)
    error = refused(bundle)
    assert error.field == "--diagnosis-date" and "--diagnosis-date 2026-05-28" in error.fix


def test_two_conditions_with_different_dates_need_the_option():
    bundle = example()
    other = copy.deepcopy(next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "Condition"))
    other["fullUrl"] = "urn:uuid:0b6a4d1e-8f32-4a37-9d5a-c1a7d0e11099"
    other["resource"].update(id="other", onsetDateTime="2026-02-02", code={"text": "Bronchiolitis"})
    bundle["entry"].append(other)
    error = refused(bundle)
    assert error.field == "--diagnosis-date" and "2026-02-02 in Bundle.entry[8].resource" in error.problem
    assert imported(bundle, {**OPTIONS, "diagnosis_date": date(2026, 5, 28)})["patient"]["diagnosis_date"] == date(2026, 5, 28)


def test_allergies_by_text_or_display_refuted_ones_left_out():
    bundle = example()
    nka = resource(bundle, "AllergyIntolerance")
    nka["code"] = {"text": "penicillin"}
    second = copy.deepcopy(next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "AllergyIntolerance"))
    second["fullUrl"] = "urn:uuid:0b6a4d1e-8f32-4a37-9d5a-c1a7d0e11098"
    second["resource"].update(id="egg", code={"coding": [{"system": "http://snomed.info/sct", "code": "102263004", "display": "Eggs"}]})
    third = copy.deepcopy(second)
    third["fullUrl"] = "urn:uuid:0b6a4d1e-8f32-4a37-9d5a-c1a7d0e11097"
    third["resource"].update(id="refuted", code={"text": "latex"},
                             verificationStatus={"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                                             "allergyintolerance-verification", "code": "refuted"}]})
    bundle["entry"] += [second, third]
    assert imported(bundle)["patient"]["allergies"] == ["penicillin", "Eggs"]


def test_no_allergy_recorded_leaves_them_unknown_and_the_loader_asks(tmp_path):
    bundle = example()
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] != "AllergyIntolerance"]
    text = patient_file(valid(bundle), OPTIONS)
    assert "allergies" not in tomllib.loads(text)["patient"]
    assert "# allergies: the Bundle holds no AllergyIntolerance, so they are unknown" in text
    path = tmp_path / "unknown.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        patients.load(path)
    assert caught.value.field == "patient.allergies"
    assert imported(bundle, {**OPTIONS, "allergies": []})["patient"]["allergies"] == []


# -- what cannot be mapped: the FHIR path and the fix ----------------------------------

def weight_entry(bundle: dict) -> dict:
    return resource(bundle, "Observation", 2)  # entry[3]: the 6400 g weight of 2026-05-29


@pytest.mark.parametrize("change, field, words", [
    (lambda b: weight_entry(b)["valueQuantity"].update(code="L", unit="L"),
     "Bundle.entry[3].resource.valueQuantity.code", "'L' is not a unit of weight"),
    (lambda b: weight_entry(b)["valueQuantity"].update(code="cm", unit="cm"),
     "Bundle.entry[3].resource.valueQuantity.code", "'cm' is a unit of length"),
    (lambda b: weight_entry(b)["valueQuantity"].update(system="http://example.org/units"),
     "Bundle.entry[3].resource.valueQuantity.system", "not UCUM"),
    (lambda b: weight_entry(b)["valueQuantity"].update(value=0),
     "Bundle.entry[3].resource.valueQuantity.value", "not a positive number"),
    (lambda b: weight_entry(b).pop("valueQuantity"), "Bundle.entry[3].resource.valueQuantity", "is missing"),
    (lambda b: weight_entry(b).pop("effectiveDateTime"), "Bundle.entry[3].resource.effectiveDateTime", "is missing"),
    (lambda b: weight_entry(b).update(status="preliminary"), "Bundle.entry[3].resource.status", "not a final measurement"),
    (lambda b: weight_entry(b).update(subject={"reference": "Patient/someone-else"}),
     "Bundle.entry[3].resource.subject.reference", "not the Bundle's Patient"),
    (lambda b: b["entry"].pop(4),  # the 620 mm length of 2026-05-29
     "Bundle.entry[3].resource", "a weight on 2026-05-29 with no length measured that day"),
    (lambda b: resource(b, "Patient").update(gender="unknown"), "Bundle.entry[0].resource.gender", "'unknown'"),
    (lambda b: resource(b, "Patient").update(birthDate="2026-01"), "Bundle.entry[0].resource.birthDate", "not a whole date"),
    (lambda b: resource(b, "Patient").pop("identifier"), "Bundle.entry[0].resource.identifier", "is missing"),
    (lambda b: resource(b, "Patient").pop("name"), "Bundle.entry[0].resource.name", "is missing"),
    (lambda b: b["entry"].pop(0), "Bundle.entry", "holds 0 Patient resources"),
    (lambda b: b["entry"].append(copy.deepcopy(b["entry"][0])), "Bundle.entry", "holds 2 Patient resources"),
    (lambda b: b.update(entry=[e for e in b["entry"] if e["resource"]["resourceType"] != "Observation"]),
     "Bundle.entry", "holds no weight or length Observation"),
])
def test_each_refusal_names_the_fhir_path(change, field, words):
    bundle = example()
    change(bundle)
    error = refused(bundle)
    assert error.field == field and words in error.problem and error.fix


def test_two_different_weights_on_one_day_are_refused():
    bundle = example()
    twin = copy.deepcopy(bundle["entry"][3])
    twin["fullUrl"] = "urn:uuid:0b6a4d1e-8f32-4a37-9d5a-c1a7d0e11096"
    twin["resource"]["valueQuantity"]["value"] = 6500
    bundle["entry"].append(twin)
    error = refused(bundle)
    assert error.field == "Bundle.entry[8].resource" and "second weight on 2026-05-29 (6.5 kg; Bundle.entry[3].resource " \
                                                         "gives 6.4 kg)" in error.problem


def test_what_fhir_does_not_say_comes_from_the_options_or_is_refused():
    error = refused(example(), {"cns": "CNS1"})
    assert (error.field, error.fix) == ("--kmt2a", "give it, e.g. --kmt2a germline")
    assert refused(example(), {"kmt2a": "germline"}).field == "--cns"
    assert patient_data(example(), {}, complete=False)["disease"] == {}  # the page: left blank for the loader to ask


def test_the_loaders_own_checks_apply_before_a_file_is_written():
    bundle = only_pair(example(), (30000, "g"), (620, "mm"))  # 30 kg: no child under three
    error = refused(bundle)
    assert error.field == "the patient file's measurements[1].weight" and error.problem.startswith("30 kg is far above the WHO weight-for-age")


@pytest.mark.parametrize("bundle, field", [
    ({"resourceType": "Patient", "id": "x"}, "Bundle.resourceType"),
    ([1, 2], "Bundle.resourceType"),
    ({"resourceType": "Bundle", "type": "collection"}, "Bundle.entry"),
    ({"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"resourceType": "Nonsense"}}]},
     "Bundle.entry[0].resource.resourceType"),
])
def test_what_is_no_bundle_is_refused(bundle, field):
    assert refused(bundle, check=False).field == field


def test_invalid_fhir_is_refused_at_its_first_location():
    bundle = example()
    weight_entry(bundle)["valueQuantity"]["value"] = "six"
    error = refused(bundle, check=False)
    assert error.field == "Bundle.entry[3].resource.valueQuantity.value" and "is not valid FHIR R4" in error.problem


# -- the command ---------------------------------------------------------------------

def dosing(*args):
    return subprocess.run([sys.executable, "-m", "dosing", *map(str, args)], capture_output=True, text=True, cwd=ROOT)


def test_the_command_prints_or_writes_the_file_never_over_another(tmp_path):
    done = dosing("import-fhir", BUNDLE, "--kmt2a", "germline", "--cns", "CNS1")
    assert done.returncode == 0 and done.stderr == ""
    assert tomllib.loads(done.stdout)["patient"]["id"] == "MRN-100001"
    out = tmp_path / "petrov.toml"
    done = dosing("import-fhir", BUNDLE, "--kmt2a", "germline", "--cns", "CNS1", "--out", out)
    assert done.returncode == 0 and done.stdout.strip() == str(out)
    assert patients.load(out).measurement_on(date(2026, 6, 1)).weight.m_as("kg") == 6.4
    before = out.read_bytes()
    done = dosing("import-fhir", BUNDLE, "--kmt2a", "germline", "--cns", "CNS1", "--out", out)
    assert done.returncode == 3 and "exists already" in done.stderr and out.read_bytes() == before


@pytest.mark.parametrize("content, words", [
    ("not json at all", "is not JSON"),
    (json.dumps({"resourceType": "Patient"}), "Bundle.resourceType: is 'Patient', not 'Bundle'"),
    ("[" * 100000, "nests values thousands deep"),
])
def test_the_command_refuses_in_one_line(tmp_path, content, words):
    path = tmp_path / "in.json"
    path.write_text(content, encoding="utf-8")
    done = dosing("import-fhir", path, "--kmt2a", "germline", "--cns", "CNS1")
    assert done.returncode == 3 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("dosing: refused: ") and words in done.stderr


def test_the_command_refuses_a_mass_in_litres_and_a_missing_option(tmp_path):
    bundle = example()
    weight_entry(bundle)["valueQuantity"].update(code="L", unit="L")
    path = tmp_path / "litres.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    done = dosing("import-fhir", path, "--kmt2a", "germline", "--cns", "CNS1")
    assert done.returncode == 3 and done.stderr.count("\n") == 1
    assert "Bundle.entry[3].resource.valueQuantity.code: 'L' is not a unit of weight" in done.stderr
    done = dosing("import-fhir", BUNDLE, "--cns", "CNS1")
    assert done.returncode == 3 and "--kmt2a: is needed" in done.stderr and "Traceback" not in done.stderr


# -- the page ------------------------------------------------------------------------

def open_on_page(tmp_path, content: bytes, name: str):
    import io
    import re

    pytest.importorskip("flask", reason="the web extra is not installed: pip install '.[web]'")
    from dosing.web import create_app

    client = create_app(tmp_path / "sheets").test_client()
    token = re.search(r'name="token" value="([^"]+)"', client.get("/").get_data(as_text=True))[1]
    response = client.post("/", data={"token": token, "action": "open", "patient_file": (io.BytesIO(content), name)},
                           content_type="multipart/form-data")
    return response.status_code, response.get_data(as_text=True)


def test_the_page_opens_a_bundle_into_the_form(tmp_path):
    import html

    status, page = open_on_page(tmp_path, BUNDLE.read_bytes(), "bundle-standard-risk.json")
    boxes = {"patient.id": "MRN-100001", "patient.name": "Petrov, Mikhail", "patient.birth_date": "2026-01-20",
             "patient.diagnosis_date": "2026-05-28", "measurements[1].date": "2026-05-28", "measurements[1].weight": "6.305 kg",
             "measurements[1].length": "62 cm", "measurements[2].date": "2026-05-29", "measurements[2].weight": "6.4 kg",
             "measurements[2].length": "62 cm"}
    for box, value in boxes.items():
        assert f'id="{box}" name="{box}" ' in page and f'value="{html.escape(value)}"' in page.split(f'id="{box}"', 1)[1][:300]
    assert '<option value="male" selected>' in page
    assert 'name="patient.no_known_allergies" checked>' in page  # SNOMED CT 716186003, no known allergy
    # KMT2A is no FHIR code: the form asks for it beside its box, as for a patient file without it
    assert status == 422 and 'id="error-disease.kmt2a" role="alert">KMT2A is missing; fill it in' in page


def test_the_page_shows_a_bad_bundles_fhir_path_beside_the_file_box(tmp_path):
    bundle = example()
    weight_entry(bundle)["valueQuantity"].update(code="L", unit="L")
    status, page = open_on_page(tmp_path, json.dumps(bundle).encode(), "litres.json")
    assert status == 422
    assert ('id="error-patient_file" role="alert">litres.json: Bundle.entry[3].resource.valueQuantity.code: &#39;L&#39; is not '
            'a unit of weight') in page
    status, page = open_on_page(tmp_path, b"{ not json", "broken.json")
    assert status == 422 and 'id="error-patient_file" role="alert">broken.json: is not JSON' in page


def test_each_code_the_import_relies_on_is_tagged_regimen_data(tmp_path):
    from dosing.errors import RegimenError
    from dosing.fhir.patient_in import codes

    known = codes()
    assert known["observation"]["weight"] == ["29463-7"] and known["units"]["length"]["[in_i]"] == "inch"
    (tmp_path / "fhir-in.toml").write_text('[observation]\nweight = { value = ["29463-7"], source = "https://loinc.org/29463-7/" }\n',
                                           encoding="utf-8")
    with pytest.raises(RegimenError, match="tag"):
        codes(tmp_path)
