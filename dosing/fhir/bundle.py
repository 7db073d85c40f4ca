"""A phase's orders as one FHIR R4B Bundle (`dosing sheet --format fhir`, issue 17 items 1 and 4).

The Bundle (type collection) holds the Patient, the weight and length
Observations the doses were computed from, a CarePlan for the phase and one
MedicationRequest per administration of the JSON orders (dosing.documents.
json_orders): the same administrations, in the same order, with the same
doses. Every code comes from regimens/terminology.toml (dosing.fhir.codes).

Each resource is built as plain data and validated by its fhir.resources R4B
model, and so is the Bundle; what is returned is the models' own JSON. The
fullUrls are uuid5 of the patient, phase, start and item, and nothing depends
on the clock, so the same orders give byte-identical output.
"""

import uuid

from dosing.documents.phrases import dose_text, drug_name
from dosing.draft import is_draft
from dosing.formatting import significant, working
from dosing.units import unit as _unit

# A request a DRAFT sheet carries must not be acted on: FHIR's "draft" is "not yet actionable ... requires
# sign-off, verification" (http://hl7.org/fhir/R4B/valueset-medicationrequest-status.html).
STATUS = {True: "draft", False: "active"}
CARE_PLAN_STATUS = {True: "draft", False: "active"}
INTRATHECAL_WARNING = "INTRATHECAL USE ONLY"


def orders_bundle(orders, terminology=None) -> dict:
    """The phase's orders (dosing.orders.PhaseOrders) as a validated Bundle, JSON-ready."""
    from fhir.resources.R4B.bundle import Bundle

    from dosing.fhir.codes import load_terminology

    if terminology is None:
        terminology = load_terminology(orders.protocol.directory.parent, list(orders.protocol.drugs))
    draft = is_draft(orders)
    url = _urls(orders)
    entries = [
        (url("patient"), _patient(orders)),
        (url("weight"), _observation(orders, terminology.weight, orders.measurement.weight, "kg", terminology, url("patient"))),
        (url("length"), _observation(orders, terminology.length, orders.measurement.length, "cm", terminology, url("patient"))),
        (url("careplan"), _care_plan(orders, draft, url("patient"))),
    ]
    for index, a in enumerate(orders.administrations, start=1):
        entries.append((url(f"administration-{index}"), _request(a, draft, terminology, url("patient"), url("careplan"))))
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"fullUrl": full, "resource": _validated(resource)} for full, resource in entries]}
    return Bundle.model_validate(bundle).model_dump(mode="json", exclude_none=True)


def _urls(orders):
    """fullUrl of an item of this patient's phase: the same patient, phase, start and item always give the same uuid."""
    def url(item: str) -> str:
        name = f"dosing:{orders.patient.id}:{orders.protocol.name}:{orders.phase.name}:{orders.start.isoformat()}:{item}"
        return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, name)}"
    return url


def _validated(resource: dict) -> dict:
    """The resource through its own R4B model: a field FHIR does not have, or a wrong type, is an error here."""
    from fhir.resources.R4B import get_fhir_model_class

    model = get_fhir_model_class(resource["resourceType"])
    return model.model_validate(resource).model_dump(mode="json", exclude_none=True)


def _patient(orders) -> dict:
    patient = orders.patient
    return {"resourceType": "Patient", "identifier": [{"value": patient.id}], "name": [{"text": patient.name}],
            "gender": patient.sex, "birthDate": patient.birth_date.isoformat()}


def _observation(orders, code, quantity, unit: str, terminology, patient_url: str) -> dict:
    """A measurement the doses rest on, in UCUM, dated the day it was measured."""
    ucum = terminology.units[unit]
    digits = 4 if unit == "kg" else 2  # as the JSON orders round weight_kg and length_cm
    return {"resourceType": "Observation", "status": "final",
            "category": [{"coding": [terminology.category.coding()]}],
            "code": {"coding": [code.coding()], "text": code.display},
            "subject": {"reference": patient_url},
            "effectiveDateTime": orders.measurement.date.isoformat(),
            "valueQuantity": {"value": round(quantity.m_as(_unit(unit)), digits), "unit": ucum.display,
                              "system": ucum.system, "code": ucum.code}}


def _care_plan(orders, draft: bool, patient_url: str) -> dict:
    return {"resourceType": "CarePlan", "status": CARE_PLAN_STATUS[draft], "intent": "plan",
            "title": f"{orders.protocol.name} {orders.phase.name}" + (" (DRAFT)" if draft else ""),
            "subject": {"reference": patient_url},
            "period": {"start": orders.start.isoformat(), "end": orders.end.isoformat()}}


def _request(a, draft: bool, terminology, patient_url: str, care_plan_url: str) -> dict:
    """One administration: the dose as the sheet prints it, its working, its route and its normalisation basis (mCODE)."""
    unit = a.order.drug.unit
    ucum = terminology.units[unit]
    route = terminology.routes[a.route]
    intrathecal = a.route == "INTRATHECAL"
    text = f"{dose_text(a)}. Working: {working(a)}"
    if a.order.drug.label:
        text = f"{a.order.drug.label}. {text}"
    if intrathecal:
        text = f"{INTRATHECAL_WARNING}. {text}"
    basis = terminology.rules[a.rule]
    dosage = {
        "text": text,
        "timing": _timing(a),
        "route": {"coding": [route.coding()], "text": INTRATHECAL_WARNING if intrathecal else a.route},
        "doseAndRate": [{"doseQuantity": {"value": float(significant(a.dose.m_as(_unit(unit)), 12).replace(",", "")),
                                          "unit": ucum.display, "system": ucum.system, "code": ucum.code}}],
    }
    return {
        "resourceType": "MedicationRequest",
        "extension": [{"url": terminology.normalization_url,
                       "valueCodeableConcept": {"coding": [basis.coding()], "text": a.basis_text}}],
        "status": STATUS[draft], "intent": "order",
        "medicationCodeableConcept": {"coding": terminology.drug_codings(a.drug), "text": drug_name(a.order)},
        "subject": {"reference": patient_url},
        "basedOn": [{"reference": care_plan_url}],
        "dosageInstruction": [dosage],
    }


def _timing(a) -> dict:
    """The day as a date (a clock time without the hospital's time zone is no FHIR dateTime): the clock times as timeOfDay."""
    timing = {"event": [a.date.isoformat()]}
    if a.times:
        timing["repeat"] = {"timeOfDay": [t.strftime("%H:%M:%S") for t in a.times]}
    elif a.times_per_day > 1:
        timing["repeat"] = {"frequency": a.times_per_day, "period": 1, "periodUnit": "d"}
    return timing
