"""The patient file (TOML, as ../shared/protocol/interfaces.md describes it).

`load` reads a file into attrs classes whose quantities carry pint units.
Anything doubtful is refused with an InputError naming the field, such as
`measurements[2].weight`, and what to write instead: a dose is never computed
from a guess.
"""

import math
import re
import reprlib
import tomllib
import unicodedata
from datetime import date
from difflib import get_close_matches
from pathlib import Path

import attrs

from dosing import bounds, growth
from dosing.body import age_in_days, age_in_months
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
        text = path.read_text(encoding="utf-8")
    except InputError:
        raise
    except FileNotFoundError:
        raise InputError(str(path), "no such file", "check the path to the patient file") from None
    except UnicodeDecodeError:
        raise InputError(str(path), "is not UTF-8 text", "save the patient file as UTF-8 TOML") from None
    except OSError as exc:
        raise InputError(str(path), f"cannot be read ({exc.strerror})", "") from None
    try:
        data = read_toml(text)
    except InputError as exc:
        raise (exc if exc.field else InputError(str(path), exc.problem, exc.fix)) from None
    return from_dict(data)


# A patient file nests three deep: the file, a table or [[array]], an entry;
# the deepest value is a list of text (allergies). Lists or tables nested
# deeper than this are not a slip in a field but something else entirely, and
# a value nested thousands deep (dotted keys make one without limit) would
# break whatever prints it.
MAX_NESTING = 8


def read_toml(text: str) -> dict:
    """A patient file's TOML as a dict (the command line's and the page's one way in).

    Refused with an InputError whose field is empty (the whole file) when it is
    not TOML, or names the field whose value nests lists or tables deeper than
    MAX_NESTING (hundreds deep, the TOML reader itself gives up).
    """
    problem = "holds lists or tables nested inside one another, deeper than any patient file; a field holds one value, or one list of text"
    try:
        data = tomllib.loads(text)
        field = _nested_too_deep(data)
    except tomllib.TOMLDecodeError as exc:
        raise InputError("", f"is not valid TOML ({exc})", "see examples/ for the format") from None
    except RecursionError:
        fields = _line_fields(text)
        field = max(fields, key=lambda f: f[1])[0] if fields else ""  # "": the whole file, if no field is found
    except ValueError:  # Python reads no whole number of more than 4300 digits
        lines = [f for f, line in zip(_line_fields(text), text.splitlines()) if re.search(r"[0-9_]{4300}", line)]
        field = lines[0][0] if lines else ""
        problem = "holds a number thousands of digits long, which no field of a patient file does"
    if field is None:
        return data
    key = field.rsplit(".", 1)[-1]
    raise InputError(field, problem, _example(key) if key in _EXAMPLES else "see examples/ for the format")


def _nested_too_deep(data: dict) -> str | None:
    """The field (e.g. measurements[1].weight) holding lists or tables nested deeper than MAX_NESTING; None if none."""
    stack = [(data, ())]
    while stack:
        value, path = stack.pop()
        if len(path) > MAX_NESTING:
            # Name the field: a table's key (patient.name), an entry's (measurements[1].weight), or a top-level key.
            entry = path[1].startswith("[") and path[2].startswith(".")
            return "".join(path[:3] if entry else path[:1] if path[1].startswith("[") else path[:2]).lstrip(".")
        if isinstance(value, dict):
            stack += [(v, path + (f".{k}",)) for k, v in value.items()]
        elif isinstance(value, list):
            stack += [(v, path + (f"[{i}]",)) for i, v in enumerate(value, start=1)]
    return None


_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_-]+)\s*\]\]?\s*(#.*)?$")
_ASSIGN = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")


def _line_fields(text: str) -> list[tuple[str, int]]:
    """For each line, the field (e.g. measurements[1].weight) it belongs to and how many brackets are open on it.

    Only for the message when the TOML reader gives up, so it need not be a TOML
    parser: it follows [table] and [[array]] headers, keys, and quoted strings.
    """
    table, counts, field, depth, found = "", {}, "", 0, []
    for line in text.splitlines():
        start, deepest = 0, depth
        if depth == 0:
            header, assign = _HEADER.match(line), _ASSIGN.match(line)
            if header:
                table = header[2]
                if header[1] == "[[":
                    counts[table] = counts.get(table, 0) + 1
                    table = f"{table}[{counts[table]}]"
                found.append(("", 0))
                continue
            field, start = ((f"{table}.{assign[1]}" if table else assign[1]), assign.end()) if assign else ("", 0)
        quote, escaped = None, False
        for c in line[start:]:
            if quote:
                escaped, quote = (False, quote) if escaped else (c == "\\" and quote == '"', None if c == quote else quote)
            elif c in "\"'":
                quote = c
            elif c == "#":
                break
            elif c in "[{":
                depth += 1
                deepest = max(deepest, depth)
            elif c in "]}":
                depth = max(depth - 1, 0)
        found.append((field, deepest))
    return found


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
    if birth > fields["diagnosis_date"]:
        raise InputError("patient.birth_date", f"{birth} is after the diagnosis date {fields['diagnosis_date']}",
                         "check both dates: an infant is diagnosed on or after the day of birth")
    days_old = age_in_days(birth, fields["diagnosis_date"])
    if days_old > bounds.AGE_AT_DIAGNOSIS_MAX_DAYS:
        raise InputError(
            "patient.diagnosis_date",
            f"the infant was {days_old} days old at diagnosis; ALL-Baby-2021 is for "
            f"infants diagnosed at 0-{bounds.AGE_AT_DIAGNOSIS_MAX_DAYS} days of life",
            "check the birth and diagnosis dates",
        )
    measurements = tuple(_measurement(entry, f"measurements[{i}]", birth, fields["sex"])
                         for i, entry in _array(data, "measurements", required=True))
    _one_per_date(measurements)
    mrd = tuple(_mrd(entry, f"mrd[{i}]") for i, entry in _array(data, "mrd"))
    remission = tuple(_remission(entry, f"remission[{i}]") for i, entry in _array(data, "remission"))
    given = tuple(_anthracycline(entry, f"anthracyclines[{i}]", birth) for i, entry in _array(data, "anthracyclines"))
    return Patient(**fields, measurements=measurements, mrd=mrd, remission=remission, anthracyclines=given)


def _known_keys(where: str, table: dict, known) -> None:
    for key in table:
        if key not in known:
            near = get_close_matches(key, known, n=1)
            hint = f"did you mean '{near[0]}'?" if near else f"known fields: {', '.join(known)}"
            name = key if len(key) <= 40 else key[:40] + "…"  # a message is read, not a copy of the file
            raise InputError(f"{where}.{name}" if where else name, "is not a field of the patient file", hint)


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
    return _line(value, f"{where}.{key}", _example(key))


# Characters that print as nothing, or change the order of what is printed
# around them: control characters, format characters (zero-width spaces and
# joiners, left-to-right and right-to-left marks, embeddings, overrides and
# isolates, the byte-order mark), line and paragraph separators, private use.
# In a name or record number they make two different values look alike.
_HIDDEN = ("Cc", "Cf", "Zl", "Zp", "Co", "Cs")


def _line(value: str, field: str, fix: str) -> str:
    if len(value) > 200 or any(ord(c) < 32 for c in value):
        raise InputError(field, "must be one line of at most 200 characters", fix)
    for i, c in enumerate(value, start=1):
        if unicodedata.category(c) in _HIDDEN:
            name = unicodedata.name(c, "a control character")
            raise InputError(field, f"has an invisible character at character {i} (U+{ord(c):04X} {name}), which hides or "
                             "reorders what is printed around it", "retype it by hand (such characters come with text pasted "
                             "from other programs)")
    return value.strip()


def _choice(table: dict, key: str, where: str) -> str:
    value = _get(table, key, where)
    choices = _CHOICES[key]
    if value not in choices:
        raise InputError(f"{where}.{key}", f"{_brief(value)} is not one of {', '.join(map(repr, choices))}", f'write e.g. {key} = "{choices[0]}"')
    return value


def _date(table: dict, key: str, where: str) -> date:
    value = _get(table, key, where)
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            pass
    if type(value) is not date:
        raise InputError(f"{where}.{key}", f"{_brief(value)} is not a calendar date", f"write it as {key} = 2026-05-04 (year-month-day)")
    return value


def _allergies(table: dict) -> tuple[str, ...]:
    if "allergies" not in table:
        raise InputError(
            "patient.allergies", "is missing; the sheet will not guess",
            'write allergies = [] for no known allergies, or list them: allergies = ["penicillin"]',
        )
    value = table["allergies"]
    fix = 'write allergies = [] or allergies = ["penicillin"]'
    if not isinstance(value, list) or not all(isinstance(a, str) and a.strip() for a in value):
        raise InputError("patient.allergies", "must be a list of text", fix)
    return tuple(_line(a, "patient.allergies", fix) for a in value)


def _quantity(table: dict, key: str, where: str, kind: str, example: str):
    value = _get(table, key, where)
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise InputError(f"{where}.{key}", f"{_brief(value)} is not a {key}", f'write it with its unit in quotes, e.g. {key} = "{example}"')
    if not isinstance(value, str):
        raise InputError(f"{where}.{key}", f"the number {value} has no unit", f'write it with its unit in quotes, e.g. {key} = "{example}"')
    try:
        quantity = parse_measure(value, kind)
    except ValueError as exc:
        raise InputError(f"{where}.{key}", f"{_brief(value)}: {exc}",
                         f'write one number and one unit, nothing after it, e.g. {key} = "{example}"') from None
    if not quantity.magnitude > 0 or quantity.magnitude == float("inf"):
        raise InputError(f"{where}.{key}", f"{_brief(value)} must be a positive number", f'write e.g. {key} = "{example}"')
    return quantity


def _after_birth(when: date, field: str, birth: date, what: str) -> None:
    """A date from birth to the oldest a child on the protocol can be (bounds.PROTOCOL_AGE_MAX_DAYS)."""
    if when < birth:
        raise InputError(field, f"{when} is before the birth date {birth}", f"check the date {what}")
    days = (when - birth).days
    if days > bounds.PROTOCOL_AGE_MAX_DAYS:
        raise InputError(field, f"{when} is {days} days after the birth date {birth}; a child on ALL-Baby-2021 is at most "
                         f"{bounds.PROTOCOL_AGE_MAX_DAYS} days old (diagnosed in the first year, treated until 104 weeks "
                         "after diagnosis)", f"check the date {what} and the birth date")


def _measurement(entry: dict, where: str, birth: date, sex: str) -> Measurement:
    when = _date(entry, "date", where)
    _after_birth(when, f"{where}.date", birth, "of the measurement")
    weight = _quantity(entry, "weight", where, "weight", "6.2 kg")
    length = _quantity(entry, "length", where, "length", "63 cm")
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
        z = growth.z_score(kind, sex, days, value)
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
    timepoint = _choice(entry, "timepoint", where)
    method = _choice(entry, "method", where)
    if ("value" in entry) == ("result" in entry):
        raise InputError(where, "needs either value or result (not both)", 'write value = "0.04 %" or result = "negative"')
    if "result" in entry:
        if entry["result"] != "negative":
            raise InputError(f"{where}.result", f"{_brief(entry['result'])} is not 'negative'", 'write result = "negative", or give value = "0.04 %"')
        return MRDResult(timepoint=timepoint, method=method, value=None)
    value = _get(entry, "value", where)
    if not isinstance(value, str):
        raise InputError(f"{where}.value", f"{_brief(value)} has no unit", 'write value = "0.04 %"')
    try:
        quantity = parse_measure(value, "percent")
    except ValueError as exc:
        raise InputError(f"{where}.value", f"{_brief(value)}: {exc}", 'write value = "0.04 %"') from None
    if not 0 <= quantity.magnitude <= 100:
        raise InputError(f"{where}.value", f"{_brief(value)} is not a percentage from 0 to 100", 'write value = "0.04 %"')
    return MRDResult(timepoint=timepoint, method=method, value=quantity)


def _anthracycline(entry: dict, where: str, birth: date) -> AnthracyclineDose:
    when = _date(entry, "date", where)
    _after_birth(when, f"{where}.date", birth, "the dose was given")
    drug = _choice(entry, "drug", where)
    amount = _quantity(entry, "amount", where, "anthracycline amount", "6.6 mg")
    if amount.m_as("mg") > 500:
        raise InputError(f"{where}.amount", f"{amount:~P} is not an infant's single anthracycline dose", 'check the number and its unit, e.g. amount = "6.6 mg"')
    return AnthracyclineDose(date=when, drug=drug, amount=amount)


def _remission(entry: dict, where: str) -> Remission:
    timepoint = _choice(entry, "timepoint", where)
    value = _get(entry, "in_remission", where)
    if not isinstance(value, bool):
        raise InputError(f"{where}.in_remission", f"{_brief(value)} is not true or false", "write in_remission = true or in_remission = false")
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


# A value quoted in a message: short, and safe for values nested hundreds deep or holding themselves.
_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother, _REPR.maxlist, _REPR.maxdict = 2, 40, 40, 4, 4


def _brief(value) -> str:
    return _REPR.repr(value)
