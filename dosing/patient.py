"""The patient file (TOML, as ../shared/protocol/interfaces.md describes it).

`load` reads a file into attrs classes whose quantities carry pint units.
Anything doubtful is refused with an InputError naming the field, such as
`measurements[2].weight`, and what to write instead: a dose is never computed
from a guess.
"""

import tomllib
from datetime import date
from difflib import get_close_matches
from pathlib import Path

import attrs

from dosing import bounds
from dosing.body import age_in_days
from dosing.errors import InputError
from dosing.units import parse_measure

# Patient files are a few hundred bytes; anything far larger is not one.
MAX_FILE_BYTES = 256 * 1024


def _within(unit: str, low: float, high: float, example: str):
    """An attrs validator refusing a measurement no child under three can have."""

    def check(instance, attribute, value):
        if not low <= value.m_as(unit) <= high:
            raise InputError(
                attribute.name,
                f"{value:~P} is outside {low:g}-{high:g} {unit}, which no child under three can measure",
                f'check the number and its unit, e.g. {attribute.name} = "{example}"',
            )

    return check


@attrs.frozen
class Measurement:
    date: date
    weight: object = attrs.field(validator=_within("kg", bounds.WEIGHT_MIN_KG, bounds.WEIGHT_MAX_KG, "6.2 kg"))  #: pint mass
    length: object = attrs.field(validator=_within("cm", bounds.LENGTH_MIN_CM, bounds.LENGTH_MAX_CM, "63 cm"))  #: pint length, recumbent


@attrs.frozen
class MRDResult:
    timepoint: str  #: "day36" or "after_HR1"
    method: str  #: "flow" or "PCR"
    value: object | None = None  #: pint percent, or None when the result is "negative"

    @property
    def negative(self) -> bool:
        return self.value is None or self.value.m_as("percent") == 0


@attrs.frozen
class Remission:
    timepoint: str
    in_remission: bool


@attrs.frozen
class AnthracyclineDose:
    """An anthracycline dose already given, for the cumulative totals (reference.md §10)."""

    date: date
    drug: str  #: "daunorubicin" or "doxorubicin"
    amount: object  #: pint mass


@attrs.frozen
class Patient:
    id: str
    name: str
    sex: str
    birth_date: date
    diagnosis_date: date
    allergies: tuple[str, ...]  #: empty means "no known allergies", stated in the file
    kmt2a: str
    cns: str
    measurements: tuple[Measurement, ...]
    mrd: tuple[MRDResult, ...] = ()
    remission: tuple[Remission, ...] = ()
    anthracyclines: tuple[AnthracyclineDose, ...] = ()

    def measurement_on(self, day: date) -> Measurement:
        """The newest measurement on or before `day` (the one a phase uses)."""
        usable = [m for m in self.measurements if m.date <= day]
        if not usable:
            first = min(m.date for m in self.measurements)
            raise InputError(
                "measurements",
                f"no weight and length measured on or before {day} (the first is {first})",
                "add a [[measurements]] entry dated on or before the phase start",
            )
        return max(usable, key=lambda m: m.date)


# -- reading the file ------------------------------------------------------

_TABLES = {
    "patient": ("id", "name", "sex", "birth_date", "diagnosis_date", "allergies"),
    "disease": ("kmt2a", "cns"),
}
_ARRAYS = {
    "measurements": ("date", "weight", "length"),
    "mrd": ("timepoint", "value", "result", "method"),
    "remission": ("timepoint", "in_remission"),
    "anthracyclines": ("date", "drug", "amount"),
}
_CHOICES = {
    "sex": ("female", "male"),
    "kmt2a": ("rearranged", "germline"),
    "cns": ("CNS1", "CNS2", "CNS3"),
    "timepoint": ("day36", "after_HR1"),
    "method": ("flow", "PCR"),
    "drug": ("daunorubicin", "doxorubicin"),
}


def load(path) -> Patient:
    path = Path(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InputError(str(path), "is too large to be a patient file", "")
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except InputError:
        raise
    except FileNotFoundError:
        raise InputError(str(path), "no such file", "check the path to the patient file") from None
    except UnicodeDecodeError:
        raise InputError(str(path), "is not UTF-8 text", "save the patient file as UTF-8 TOML") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(str(path), f"is not valid TOML ({exc})", "see examples/ for the format") from None
    except OSError as exc:
        raise InputError(str(path), f"cannot be read ({exc.strerror})", "") from None
    return from_dict(data)


def from_dict(data: dict) -> Patient:
    _known_keys("", data, tuple(_TABLES) + tuple(_ARRAYS))
    patient = _table(data, "patient")
    disease = _table(data, "disease")
    fields = dict(
        id=_text(patient, "id", "patient"),
        name=_text(patient, "name", "patient"),
        sex=_choice(patient, "sex", "patient"),
        birth_date=_date(patient, "birth_date", "patient"),
        diagnosis_date=_date(patient, "diagnosis_date", "patient"),
        allergies=_allergies(patient),
        kmt2a=_choice(disease, "kmt2a", "disease"),
        cns=_choice(disease, "cns", "disease"),
    )
    birth = fields["birth_date"]
    if fields["birth_date"] > fields["diagnosis_date"]:
        raise InputError("patient.diagnosis_date", "is before the birth date", "check both dates")
    days_old = age_in_days(birth, fields["diagnosis_date"])
    if days_old > bounds.AGE_AT_DIAGNOSIS_MAX_DAYS:
        raise InputError(
            "patient.diagnosis_date",
            f"the infant was {days_old} days old at diagnosis; ALL-Baby-2021 is for "
            f"infants diagnosed at 0-{bounds.AGE_AT_DIAGNOSIS_MAX_DAYS} days of life",
            "check the birth and diagnosis dates",
        )
    measurements = tuple(_measurement(entry, f"measurements[{i}]", birth) for i, entry in _array(data, "measurements", required=True))
    mrd = tuple(_mrd(entry, f"mrd[{i}]") for i, entry in _array(data, "mrd"))
    remission = tuple(_remission(entry, f"remission[{i}]") for i, entry in _array(data, "remission"))
    given = tuple(_anthracycline(entry, f"anthracyclines[{i}]", birth) for i, entry in _array(data, "anthracyclines"))
    return Patient(**fields, measurements=measurements, mrd=mrd, remission=remission, anthracyclines=given)


def _known_keys(where: str, table: dict, known) -> None:
    for key in table:
        if key not in known:
            near = get_close_matches(key, known, n=1)
            hint = f"did you mean '{near[0]}'?" if near else f"known fields: {', '.join(known)}"
            raise InputError(f"{where}.{key}" if where else key, "is not a field of the patient file", hint)


def _table(data: dict, name: str) -> dict:
    table = data.get(name)
    if table is None:
        raise InputError(f"[{name}]", "is missing", "see examples/ for a complete patient file")
    if not isinstance(table, dict):
        raise InputError(name, "must be a table", f"write it as [{name}] followed by its fields")
    _known_keys(name, table, _TABLES[name])
    return table


def _array(data: dict, name: str, required: bool = False):
    entries = data.get(name, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise InputError(name, "must be a list of tables", f"write each entry under [[{name}]]")
    if required and not entries:
        raise InputError(f"[[{name}]]", "is missing", f"add at least one [[{name}]] entry with date, weight and length")
    for i, entry in enumerate(entries, start=1):
        _known_keys(f"{name}[{i}]", entry, _ARRAYS[name])
        yield i, entry


def _get(table: dict, key: str, where: str):
    if key not in table:
        raise InputError(f"{where}.{key}", "is missing", _example(key))
    return table[key]


def _text(table: dict, key: str, where: str) -> str:
    value = _get(table, key, where)
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{where}.{key}", "must be non-empty text in quotes", _example(key))
    if len(value) > 200 or any(ord(c) < 32 for c in value):
        raise InputError(f"{where}.{key}", "must be one line of at most 200 characters", _example(key))
    return value.strip()


def _choice(table: dict, key: str, where: str) -> str:
    value = _get(table, key, where)
    choices = _CHOICES[key]
    if value not in choices:
        raise InputError(f"{where}.{key}", f"{value!r} is not one of {', '.join(map(repr, choices))}", f'write e.g. {key} = "{choices[0]}"')
    return value


def _date(table: dict, key: str, where: str) -> date:
    value = _get(table, key, where)
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            pass
    if type(value) is not date:
        raise InputError(f"{where}.{key}", f"{value!r} is not a calendar date", f"write it as {key} = 2026-05-04 (year-month-day)")
    return value


def _allergies(table: dict) -> tuple[str, ...]:
    if "allergies" not in table:
        raise InputError(
            "patient.allergies", "is missing; the sheet will not guess",
            'write allergies = [] for no known allergies, or list them: allergies = ["penicillin"]',
        )
    value = table["allergies"]
    if not isinstance(value, list) or not all(isinstance(a, str) and a.strip() for a in value):
        raise InputError("patient.allergies", "must be a list of text", 'write allergies = [] or allergies = ["penicillin"]')
    return tuple(_text({"allergy": a}, "allergy", "patient.allergies") for a in value)


def _quantity(table: dict, key: str, where: str, dimension: str, example: str):
    value = _get(table, key, where)
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise InputError(f"{where}.{key}", f"{value!r} is not a {key}", f'write it with its unit in quotes, e.g. {key} = "{example}"')
    if not isinstance(value, str):
        raise InputError(f"{where}.{key}", f"the number {value} has no unit", f'write it with its unit in quotes, e.g. {key} = "{example}"')
    try:
        quantity = parse_measure(value, dimension)
    except ValueError as exc:
        raise InputError(f"{where}.{key}", f"{value!r}: {exc}", f'write e.g. {key} = "{example}"') from None
    if not quantity.magnitude > 0 or quantity.magnitude == float("inf"):
        raise InputError(f"{where}.{key}", f"{value!r} must be a positive number", f'write e.g. {key} = "{example}"')
    return quantity


def _measurement(entry: dict, where: str, birth: date) -> Measurement:
    when = _date(entry, "date", where)
    if when < birth:
        raise InputError(f"{where}.date", f"{when} is before the birth date {birth}", "check the measurement date")
    weight = _quantity(entry, "weight", where, "[mass]", "6.2 kg")
    length = _quantity(entry, "length", where, "[length]", "63 cm")
    try:
        return Measurement(date=when, weight=weight, length=length)
    except InputError as exc:
        raise exc.within(where) from None


def _mrd(entry: dict, where: str) -> MRDResult:
    timepoint = _choice(entry, "timepoint", where)
    method = _choice(entry, "method", where)
    if ("value" in entry) == ("result" in entry):
        raise InputError(where, "needs either value or result (not both)", 'write value = "0.04 %" or result = "negative"')
    if "result" in entry:
        if entry["result"] != "negative":
            raise InputError(f"{where}.result", f"{entry['result']!r} is not 'negative'", 'write result = "negative", or give value = "0.04 %"')
        return MRDResult(timepoint=timepoint, method=method, value=None)
    value = _get(entry, "value", where)
    if not isinstance(value, str):
        raise InputError(f"{where}.value", f"{value!r} has no unit", 'write value = "0.04 %"')
    try:
        quantity = parse_measure(value.replace("%", " percent"), "[]")
    except ValueError as exc:
        raise InputError(f"{where}.value", f"{value!r}: {exc}", 'write value = "0.04 %"') from None
    if str(quantity.units) != "percent" or not 0 <= quantity.magnitude <= 100:
        raise InputError(f"{where}.value", f"{value!r} is not a percentage from 0 to 100", 'write value = "0.04 %"')
    return MRDResult(timepoint=timepoint, method=method, value=quantity)


def _anthracycline(entry: dict, where: str, birth: date) -> AnthracyclineDose:
    when = _date(entry, "date", where)
    if when < birth:
        raise InputError(f"{where}.date", f"{when} is before the birth date {birth}", "check the date the dose was given")
    drug = _choice(entry, "drug", where)
    amount = _quantity(entry, "amount", where, "[mass]", "6.6 mg")
    if amount.m_as("mg") > 500:
        raise InputError(f"{where}.amount", f"{amount:~P} is not an infant's single anthracycline dose", 'check the number and its unit, e.g. amount = "6.6 mg"')
    return AnthracyclineDose(date=when, drug=drug, amount=amount)


def _remission(entry: dict, where: str) -> Remission:
    timepoint = _choice(entry, "timepoint", where)
    value = _get(entry, "in_remission", where)
    if not isinstance(value, bool):
        raise InputError(f"{where}.in_remission", f"{value!r} is not true or false", "write in_remission = true or in_remission = false")
    return Remission(timepoint=timepoint, in_remission=value)


_EXAMPLES = {
    "id": 'write e.g. id = "MRN-000123"',
    "name": 'write e.g. name = "Ivanova, Anna"',
    "date": "write e.g. date = 2026-05-04",
    "weight": 'write e.g. weight = "6.2 kg"',
    "length": 'write e.g. length = "63 cm"',
}


def _example(key: str) -> str:
    return _EXAMPLES.get(key, "see examples/ for the format")
