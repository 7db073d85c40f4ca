"""A patient file from a FHIR R4 Bundle (issue 17, item 3): `dosing import-fhir` and the page's open box.

    Bundle (JSON) --R4B models validate it--> Patient, Observations, Condition, AllergyIntolerance
    --this module--> the patient file's dict --tomli_w--> TOML text, which dosing.patient.load reads

The Bundle is validated with fhir.resources' R4B models first, so every value
read here has the type FHIR gives it; then each value is read from the Bundle's
own JSON, so a refusal names the FHIR path it came from
("Bundle.entry[3].resource.valueQuantity.code", entries counted from 0 as FHIRPath
counts them) and what to send instead. Codes and units are regimen data
(regimens/fhir-in.toml, each with its tag and source); a weight or length in
another UCUM unit is converted with the project's pint registry. What FHIR does
not say (KMT2A, CNS status, sometimes the diagnosis date) comes from `defaults`,
the command's options, or is refused.
"""

import json
from datetime import date
from pathlib import Path

from dosing.errors import InputError
from dosing.fhir.measurements_in import full_date, measurements

DATA_FILE = "fhir-in.toml"
#: what the command's options may give when the Bundle does not
DEFAULT_KEYS = ("diagnosis_date", "kmt2a", "cns", "allergies")


def codes(regimens=None) -> dict:
    """regimens/fhir-in.toml's values by table and key; a value without its tag and source does not load (RegimenError)."""
    from dosing.regimen.source import Source, default_directory, tagged

    source = Source(Path(regimens or default_directory()) / DATA_FILE)
    return {table: {key: tagged(source, entries, key, source.header_line(f"[{table}]"), f"{table}.{key}").value
                    for key in entries}
            for table, entries in source.data.items()}


def patient_file(bundle: dict, defaults: dict | None = None, *, name: str = "") -> str:
    """The patient file's TOML text from `bundle`, checked by the patient loader; `name`: where the Bundle came from."""
    import tomli_w

    data = patient_data(bundle, defaults)
    _loads(data)
    said = [f"# ALL-Baby-2021 patient file, written by dosing import-fhir from a FHIR Bundle: {bundle_name(bundle, name)}.",
            "# The command line reads it as it is: dosing plan THIS-FILE; dosing sheet THIS-FILE --phase ... --start ..."]
    if "allergies" not in data["patient"]:
        said.append("# allergies: the Bundle holds no AllergyIntolerance, so they are unknown: write allergies = [] for "
                    'none known, or list them, e.g. allergies = ["penicillin"], before this file is used')
    return "\n".join(said) + "\n" + tomli_w.dumps(data)


def parse_bundle(data: bytes):
    """Bytes as JSON (the command's and the page's one way in); refused when they are not UTF-8 JSON."""
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError("", "is not UTF-8 text", "export the Bundle as UTF-8 JSON") from None
    except RecursionError:
        raise InputError("", "nests values thousands deep, which no FHIR Bundle does", "export the Bundle again") from None
    except ValueError as exc:  # json.JSONDecodeError, or a number thousands of digits long
        raise InputError("", f"is not JSON ({exc})", "export the Bundle as FHIR JSON (not XML)") from None


def bundle_name(bundle: dict, name: str = "") -> str:
    """How the header names the Bundle: its file, its identifier or id, and when it was made."""
    parts = [name] if name else []
    identifier = bundle.get("identifier") if isinstance(bundle.get("identifier"), dict) else {}
    if identifier.get("value") or bundle.get("id"):
        parts.append(f"Bundle {identifier.get('value') or bundle.get('id')}")
    if bundle.get("timestamp"):
        parts.append(f"of {bundle['timestamp']}")
    return " ".join(parts) or "a Bundle without an id"


def patient_data(bundle, defaults: dict | None = None, complete: bool = True) -> dict:
    """The patient file as a dict. `complete=False` (the page) leaves out what neither the Bundle nor `defaults` gives."""
    known, defaults = codes(), {k: v for k, v in (defaults or {}).items() if k in DEFAULT_KEYS and v not in (None, "")}
    resources = validated(bundle)
    where, patient = _the_patient(resources)
    # how an Observation's subject may name this Patient: its id, or its entry's fullUrl
    refs = {f"Patient/{patient['id']}"} if patient.get("id") else set()
    refs |= {e.get("fullUrl") for e in bundle["entry"] if e["resource"] is patient and e.get("fullUrl")}
    record = {"id": _record_number(where, patient, known), "name": _name(where, patient),
              "sex": _sex(where, patient, known), "birth_date": full_date(f"{where}.birthDate", patient.get("birthDate"))}
    diagnosed = _diagnosis_date(resources, defaults, complete)
    if diagnosed:
        record["diagnosis_date"] = diagnosed
    allergies = _allergies(resources, known, defaults)
    if allergies is not None:
        record["allergies"] = allergies
    disease = {key: defaults[key] for key in ("kmt2a", "cns") if key in defaults}
    if complete:
        for key, option in (("diagnosis_date", "--diagnosis-date 2026-05-28"), ("kmt2a", "--kmt2a germline"), ("cns", "--cns CNS1")):
            if key not in record and key not in disease:
                what = {"diagnosis_date": "no Condition with an onsetDateTime or recordedDate gives the diagnosis date",
                        "kmt2a": "FHIR does not say whether KMT2A is rearranged", "cns": "FHIR does not give the CNS status"}[key]
                raise InputError(f"--{key.replace('_', '-')}", f"is needed: {what}", f"give it, e.g. {option}")
    return {"patient": record, "disease": disease, "measurements": measurements(resources, refs, known)}


def validated(bundle) -> list[tuple[str, dict]]:
    """(FHIR path, resource) of each entry, once the whole Bundle validates with the R4B models."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        found = bundle.get("resourceType") if isinstance(bundle, dict) else type(bundle).__name__
        raise InputError("Bundle.resourceType", f"is {found!r}, not 'Bundle'", "send a FHIR Bundle (JSON) holding the Patient "
                         "and the weight and length Observations")
    import fhir.resources.R4B as r4b
    import pydantic
    from fhir.resources.R4B.bundle import Bundle

    entries = bundle.get("entry")
    if not isinstance(entries, list) or not entries:
        raise InputError("Bundle.entry", "is missing or empty", "put the Patient and its Observations in Bundle.entry")
    for i, entry in enumerate(entries):
        kind = entry.get("resource", {}).get("resourceType") if isinstance(entry, dict) else None
        if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
            raise InputError(f"Bundle.entry[{i}].resource", "is missing", "give each entry its resource")
        try:
            r4b.get_fhir_model_class(str(kind))
        except (ValueError, KeyError):
            raise InputError(f"Bundle.entry[{i}].resource.resourceType", f"{kind!r} is not a FHIR R4 resource",
                             "check the resource's type") from None
    try:
        Bundle.model_validate(bundle)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        path = "Bundle" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])
        raise InputError(path, f"is not valid FHIR R4 ({first['msg']})", "correct it in the sending system") from None
    return [(f"Bundle.entry[{i}].resource", entry["resource"]) for i, entry in enumerate(entries)]


def _loads(data: dict) -> None:
    """The patient loader's own checks (bounds, dates against the birth date) before the file is written."""
    from dosing.patient import from_dict

    try:
        from_dict({**data, "patient": {"allergies": [], **data["patient"]}})
    except InputError as exc:
        raise InputError(f"the patient file's {exc.field}", exc.problem, exc.fix or "check the value in the sending system") from None


def _the_patient(resources) -> tuple[str, dict]:
    found = [(where, r) for where, r in resources if r["resourceType"] == "Patient"]
    if len(found) != 1:
        raise InputError("Bundle.entry", f"holds {len(found)} Patient resources, not one",
                         "send one Bundle per infant, with its Patient" if found else "add the infant's Patient to the Bundle")
    return found[0]


def _record_number(where: str, patient: dict, known: dict) -> str:
    """The medical record number (identifier type MR), else the one identifier there is."""
    mr = known["patient"]["record_number"]
    identifiers = [(i, x) for i, x in enumerate(patient.get("identifier", [])) if x.get("value", "").strip()]
    typed = [(i, x) for i, x in identifiers
             if any(c.get("system") == mr["system"] and c.get("code") == mr["code"] for c in x.get("type", {}).get("coding", []))]
    chosen = typed or identifiers
    if not chosen:
        raise InputError(f"{where}.identifier", "is missing: the patient file needs the record number",
                         "send the Patient's medical record number as an identifier (type MR)")
    if len({x["value"].strip() for _, x in chosen}) > 1:
        raise InputError(f"{where}.identifier", f"holds {len(chosen)} different identifiers and none is the one medical "
                         "record number", f"type the record number's identifier {mr['code']} ({mr['system']})")
    return chosen[0][1]["value"].strip()


def _name(where: str, patient: dict) -> str:
    """"Family, Given" from the official name (else the first), as the patient file writes a name."""
    names = patient.get("name", [])
    official = [i for i, n in enumerate(names) if n.get("use") == "official"]
    i = official[0] if official else 0
    if not names:
        raise InputError(f"{where}.name", "is missing", "send the Patient's name (family and given)")
    name = names[i]
    family, given = (name.get("family") or "").strip(), " ".join(g.strip() for g in name.get("given", []) if g.strip())
    if family:
        return f"{family}, {given}" if given else family
    if (name.get("text") or "").strip():
        return name["text"].strip()
    raise InputError(f"{where}.name[{i}].family", "is missing", "send the family name (and the given names)")


def _sex(where: str, patient: dict, known: dict) -> str:
    gender = patient.get("gender")
    sexes = known["patient"]["sex"]
    if gender not in sexes:
        raise InputError(f"{where}.gender", f"is {gender!r}" if gender else "is missing",
                         f"the growth check needs one of {', '.join(sexes)}: correct the Patient's gender")
    return sexes[gender]


def _diagnosis_date(resources, defaults: dict, complete: bool = True) -> date | None:
    """The Condition's onset (else its recorded date); several different ones need the option (or, on the page, the box)."""
    found = {}
    for where, r in resources:
        if r["resourceType"] != "Condition":
            continue
        status = [c.get("code") for c in r.get("verificationStatus", {}).get("coding", [])]
        if "entered-in-error" in status or "refuted" in status:
            continue
        key = "onsetDateTime" if r.get("onsetDateTime") else "recordedDate" if r.get("recordedDate") else None
        if key:
            found.setdefault(full_date(f"{where}.{key}", r[key]), where)
    if "diagnosis_date" in defaults:
        return defaults["diagnosis_date"]  # said by the person running the import: it settles several Conditions
    if len(found) > 1 and not complete:
        return None  # the page: left blank, for the person to type
    if len(found) > 1:
        raise InputError("--diagnosis-date", f"is needed: the Conditions give {len(found)} different dates "
                         f"({', '.join(f'{d} in {w}' for d, w in sorted(found.items()))})",
                         "give the leukaemia's diagnosis date, e.g. --diagnosis-date 2026-05-28")
    return next(iter(found), None)


def _allergies(resources, known: dict, defaults: dict) -> list[str] | None:
    """The allergies' names; [] for "no known allergy"; None (unknown) when the Bundle and the options say nothing."""
    table, names, none_known = known["allergies"], [], None
    for where, r in resources:
        if r["resourceType"] != "AllergyIntolerance":
            continue
        if {c.get("code") for c in r.get("verificationStatus", {}).get("coding", [])} & set(table["not_allergies"]):
            continue
        code = r.get("code", {})
        nka = table["none_known"]
        if any(c.get("system") == nka["system"] and c.get("code") == nka["code"] for c in code.get("coding", [])):
            none_known = where
            continue
        shown = (code.get("text") or "").strip() or next((c["display"].strip() for c in code.get("coding", [])
                                                         if (c.get("display") or "").strip()), "")
        if not shown:
            raise InputError(f"{where}.code", "has neither text nor a coding's display to name the allergy",
                             "send the substance's name in code.text")
        names.append(shown)
    if names and none_known:
        raise InputError(none_known, f"says no known allergy, but the Bundle also lists {', '.join(names)}",
                         "remove the one that is wrong in the sending system")
    if names or none_known:
        return names
    return defaults.get("allergies")
