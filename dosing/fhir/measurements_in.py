"""The patient file's [[measurements]] from a Bundle's weight and length Observations (dosing.fhir.patient_in's step).

Each Observation coded with a LOINC weight or length code (regimens/fhir-in.toml)
gives one value on its effectiveDateTime's date, converted from its UCUM unit
with the project's pint registry; a weight and a length of the same date make
one measurement. A weight without a length that day (or the reverse) is refused
rather than paired with an older one: a dose is computed from a measured pair,
never from a guess.
"""

from datetime import date

from dosing.errors import InputError
from dosing.units import Q

# The file writes a weight to the gram and a length to the millimetre: the finest an
# infant scale and a length board read, so a converted unit adds no false precision.
DECIMALS = {"weight": 3, "length": 1}
FILE_UNIT = {"weight": "kg", "length": "cm"}
UNIT_TABLE = {"weight": "mass", "length": "length"}


def measurements(resources, patient_refs: set[str], known: dict) -> list[dict]:
    """[[measurements]] entries, oldest first; refused, naming the FHIR path, when a value cannot be used."""
    seen: dict = {}  # date -> kind -> (path, value in the file's unit)
    for where, r in resources:
        kind = r["resourceType"] == "Observation" and _kind(r, known)
        if not kind:
            continue
        status = r.get("status")
        if status in known["observation"]["skipped"]:
            continue
        if status not in known["observation"]["final"]:
            raise InputError(f"{where}.status", f"is {status!r}: not a final measurement",
                             f"send the {kind} once it is {' or '.join(known['observation']['final'])}")
        reference = (r.get("subject") or {}).get("reference")
        if reference and not any(reference == ref or reference.endswith("/" + ref) for ref in patient_refs):
            raise InputError(f"{where}.subject.reference", f"is {reference!r}, not the Bundle's Patient",
                             "send only this infant's Observations")
        when = _day(where, r)
        value = _value(where, r, kind, known)
        earlier = seen.setdefault(when, {}).get(kind)
        if earlier and earlier[1] != value:
            raise InputError(where, f"is a second {kind} on {when} ({value} {FILE_UNIT[kind]}; {earlier[0]} gives "
                             f"{earlier[1]} {FILE_UNIT[kind]})", f"send the one {kind} measured that day")
        seen[when][kind] = earlier or (where, value)
    if not seen:
        codes = ", ".join(code for kind in ("weight", "length") for code in known["observation"][kind])
        raise InputError("Bundle.entry", "holds no weight or length Observation",
                         f"send the weight and length as Observations coded with LOINC ({codes})")
    found = []
    for when in sorted(seen):
        pair = seen[when]
        for kind, other in (("weight", "length"), ("length", "weight")):
            if other not in pair:
                raise InputError(pair[kind][0], f"is a {kind} on {when} with no {other} measured that day",
                                 f"send the {other} measured on {when} too, or leave this {kind} out of the Bundle")
        found.append({"date": when, **{kind: f"{pair[kind][1]:g} {FILE_UNIT[kind]}" for kind in ("weight", "length")}})
    return found


def _kind(observation: dict, known: dict) -> str | None:
    """"weight" or "length" by the Observation's LOINC code; None for any other Observation (left out)."""
    table = known["observation"]
    for coding in observation.get("code", {}).get("coding", []):
        if coding.get("system") == table["loinc_system"]:
            for kind in ("weight", "length"):
                if coding.get("code") in table[kind]:
                    return kind
    return None


def _day(where: str, observation: dict):
    if "effectiveDateTime" not in observation:
        raise InputError(f"{where}.effectiveDateTime", "is missing", "send the date the infant was measured as effectiveDateTime")
    return full_date(f"{where}.effectiveDateTime", observation["effectiveDateTime"])


def _value(where: str, observation: dict, kind: str, known: dict) -> float:
    """The value in the file's unit (kg, cm), rounded as the file writes it."""
    quantity = observation.get("valueQuantity")
    if not isinstance(quantity, dict):
        raise InputError(f"{where}.valueQuantity", "is missing", f"send the {kind} as a valueQuantity with its UCUM unit")
    units = known["units"]
    if quantity.get("system") != units["ucum_system"]:
        raise InputError(f"{where}.valueQuantity.system", f"is {quantity.get('system')!r}, not UCUM",
                         f"send system = {units['ucum_system']} and the UCUM code of the unit")
    code, allowed = quantity.get("code"), units[UNIT_TABLE[kind]]
    if code not in allowed:
        other = next((k for k in UNIT_TABLE if k != kind and code in units[UNIT_TABLE[k]]), None)
        said = f"{code!r} is a unit of {other}" if other else f"{code!r} is not a unit of {kind} this import reads"
        raise InputError(f"{where}.valueQuantity.code", said, f"send the {kind} in one of {', '.join(allowed)} (UCUM)")
    number = quantity.get("value")
    if isinstance(number, bool) or not isinstance(number, (int, float)) or not number > 0:
        raise InputError(f"{where}.valueQuantity.value", f"is {number!r}, not a positive number", f"send the {kind}'s number")
    return round(Q(float(number), allowed[code]).m_as(FILE_UNIT[kind]), DECIMALS[kind])


def full_date(path: str, value) -> date:
    """A FHIR date or dateTime's calendar day; a year or month alone is refused."""
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        said = f"is {value!r}, not a whole date" if value else "is missing"
        raise InputError(path, said, "send the year, month and day (YYYY-MM-DD)") from None
