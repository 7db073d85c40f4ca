"""The patient file's dict into the Patient model, every entry checked against the others.

Data flow: read.py (text → dict) → this module → model.Patient → body size and
age → doses. fields.py reads each value, labs.py the results, genotype and
other medicines; this module assembles them and
refuses what no single field shows: a birth after the diagnosis, an infant too
old for the protocol, a date before birth, a weight or length impossible for
the age (WHO standard), two different measurements on one date.
"""

import math
from datetime import date

from dosing import bounds, growth
from dosing.body import age_in_days, age_in_months
from dosing.errors import InputError
from dosing.patient import fields, labs
from dosing.patient.messages import brief
from dosing.patient.model import AnthracyclineDose, Measurement, MRDResult, Patient, Remission
from dosing.units import parse_measure


def from_dict(data: dict) -> Patient:
    fields.known_keys("", data, tuple(fields.TABLES) + tuple(fields.ARRAYS))
    patient = fields.table_of(data, "patient")
    disease = fields.table_of(data, "disease")
    details = dict(
        id=fields.text(patient, "id", "patient"),
        name=fields.text(patient, "name", "patient"),
        sex=fields.choice(patient, "sex", "patient"),
        birth_date=fields.calendar_date(patient, "birth_date", "patient"),
        diagnosis_date=fields.calendar_date(patient, "diagnosis_date", "patient"),
        allergies=fields.allergies(patient),
        kmt2a=fields.choice(disease, "kmt2a", "disease"),
        cns=fields.choice(disease, "cns", "disease"),
    )
    birth = details["birth_date"]
    if birth > details["diagnosis_date"]:
        raise InputError("patient.birth_date", f"{birth} is after the diagnosis date {details['diagnosis_date']}",
                         "check both dates: an infant is diagnosed on or after the day of birth")
    days_old = age_in_days(birth, details["diagnosis_date"])
    if days_old > bounds.AGE_AT_DIAGNOSIS_MAX_DAYS:
        raise InputError(
            "patient.diagnosis_date",
            f"the infant was {days_old} days old at diagnosis; ALL-Baby-2021 is for "
            f"infants diagnosed at 0-{bounds.AGE_AT_DIAGNOSIS_MAX_DAYS} days of life",
            "check the birth and diagnosis dates",
        )
    measurements = tuple(_measurement(entry, f"measurements[{i}]", birth, details["sex"])
                         for i, entry in fields.entries_of(data, "measurements", required=True))
    _one_per_date(measurements)
    mrd = tuple(_mrd(entry, f"mrd[{i}]") for i, entry in fields.entries_of(data, "mrd"))
    remission = tuple(_remission(entry, f"remission[{i}]") for i, entry in fields.entries_of(data, "remission"))
    given = tuple(_anthracycline(entry, f"anthracyclines[{i}]", birth) for i, entry in fields.entries_of(data, "anthracyclines"))
    return Patient(**details, measurements=measurements, mrd=mrd, remission=remission, anthracyclines=given,
                   labs=labs.labs(data, birth), genotype=labs.genotype(data), medications=labs.medications(data))


def _measurement(entry: dict, where: str, birth: date, sex: str) -> Measurement:
    when = fields.calendar_date(entry, "date", where)
    fields.after_birth(when, f"{where}.date", birth, "of the measurement")
    weight = fields.quantity(entry, "weight", where, "weight", "6.2 kg")
    length = fields.quantity(entry, "length", where, "length", "63 cm")
    try:
        measurement = Measurement(date=when, weight=weight, length=length)
    except InputError as exc:
        raise exc.within(where) from None
    _possible_for_age(measurement, where, birth, sex)
    return measurement


def _possible_for_age(measurement: Measurement, where: str, birth: date, sex: str) -> None:
    """Refuse a weight or length far above the WHO standard for the age (bounds.py gives the limits and why)."""
    days = (measurement.date - birth).days
    months = age_in_months(birth, measurement.date)
    age = f"{months}-month-old" if months else f"{days}-day-old" if days else "newborn"
    child = "girl" if sex == "female" else "boy"
    for key, kind, quantity, unit, limit in (
        ("weight", "weight", measurement.weight, "kg", bounds.WEIGHT_FOR_AGE_Z_MAX),
        ("length", "height", measurement.length, "cm", bounds.LENGTH_FOR_AGE_Z_MAX),
    ):
        value = quantity.m_as(unit)
        try:
            z = growth.z_score(kind, sex, days, value)
        except growth.Unreadable:
            return  # no WHO tables: the sheet's warnings say the growth check was not done (dosing.growth)
        if z is None or z <= limit:
            continue
        written = f"{quantity.magnitude:g} {quantity.units:~P}"
        as_unit = written if written.endswith(f" {unit}") else f"{value:.3g} {unit}"  # as typed, or converted
        shown = written if written == as_unit else f"{written} ({as_unit})"
        # Whole numbers far out (z +21), enough decimals near the limit never to print "z +6, past +6".
        z_text = next(t for t in (f"{z:+.0f}", f"{z:+.1f}", f"{z:+.2f}", f"{z:+.3f}") if abs(z) >= 10 or float(t) > limit)
        raise InputError(
            f"{where}.{key}",
            f"{shown} is far above the WHO {key}-for-age standard for a {child} of {days} days: z {z_text}, past +{limit:g}, "
            f"beyond which WHO counts a {key}-for-age as biologically implausible",
            f"check the number and its unit; {as_unit} is not possible for a {age} (WHO z {z_text})",
        )


def _one_per_date(measurements: tuple[Measurement, ...]) -> None:
    """Two different measurements on one date leave the sheet to guess which to dose on: refused."""
    first_on = {}
    for i, m in enumerate(measurements, start=1):
        j = first_on.setdefault(m.date, i)
        other = measurements[j - 1]
        if j != i and not (math.isclose(m.weight.m_as("kg"), other.weight.m_as("kg"))
                           and math.isclose(m.length.m_as("cm"), other.length.m_as("cm"))):
            raise InputError(
                f"measurements[{i}].date",
                f"{m.date} is also the date of measurements[{j}], with a different weight or length "
                f"({_pair(other)}; {_pair(m)}): the sheet cannot tell which to dose on",
                "keep one measurement for that date: delete the wrong one, or correct its date",
            )


def _pair(m: Measurement) -> str:
    return f"{m.weight.magnitude:g} {m.weight.units:~P}, {m.length.magnitude:g} {m.length.units:~P}"


def _mrd(entry: dict, where: str) -> MRDResult:
    timepoint = fields.choice(entry, "timepoint", where)
    method = fields.choice(entry, "method", where)
    if ("value" in entry) == ("result" in entry):
        raise InputError(where, "needs either value or result (not both)", 'write value = "0.04 %" or result = "negative"')
    if "result" in entry:
        if entry["result"] != "negative":
            raise InputError(f"{where}.result", f"{brief(entry['result'])} is not 'negative'", 'write result = "negative", or give value = "0.04 %"')
        return MRDResult(timepoint=timepoint, method=method, value=None)
    value = fields.given(entry, "value", where)
    if not isinstance(value, str):
        raise InputError(f"{where}.value", f"{brief(value)} has no unit", 'write value = "0.04 %"')
    try:
        quantity = parse_measure(value, "percent")
    except ValueError as exc:
        raise InputError(f"{where}.value", f"{brief(value)}: {exc}", 'write value = "0.04 %"') from None
    if not 0 <= quantity.magnitude <= 100:
        raise InputError(f"{where}.value", f"{brief(value)} is not a percentage from 0 to 100", 'write value = "0.04 %"')
    return MRDResult(timepoint=timepoint, method=method, value=quantity)


def _anthracycline(entry: dict, where: str, birth: date) -> AnthracyclineDose:
    when = fields.calendar_date(entry, "date", where)
    fields.after_birth(when, f"{where}.date", birth, "the dose was given")
    drug = fields.choice(entry, "drug", where)
    amount = fields.quantity(entry, "amount", where, "anthracycline amount", "6.6 mg")
    if amount.m_as("mg") > 500:
        raise InputError(f"{where}.amount", f"{amount:~P} is not an infant's single anthracycline dose", 'check the number and its unit, e.g. amount = "6.6 mg"')
    return AnthracyclineDose(date=when, drug=drug, amount=amount)


def _remission(entry: dict, where: str) -> Remission:
    timepoint = fields.choice(entry, "timepoint", where)
    value = fields.given(entry, "in_remission", where)
    if not isinstance(value, bool):
        raise InputError(f"{where}.in_remission", f"{brief(value)} is not true or false", "write in_remission = true or in_remission = false")
    return Remission(timepoint=timepoint, in_remission=value)
