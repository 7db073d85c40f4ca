"""The patient file's layout, and how one field's value is read and checked.

Between read.py (the file as a plain dict) and build.py (the Patient): each
function here takes one table or entry and one key, and returns the value as
the model holds it (text, a choice, a date, a quantity with its unit), or
refuses it with an InputError naming the field, e.g. `measurements[2].weight`,
and what to write instead.
"""

import unicodedata
from datetime import date
from difflib import get_close_matches

from dosing import bounds
from dosing.errors import InputError
from dosing.patient.messages import brief, example
from dosing.results import PHENOTYPES
from dosing.units import parse_measure

# The file's layout: its tables and [[arrays]], and the keys each may hold.
TABLES = {
    "patient": ("id", "name", "sex", "birth_date", "diagnosis_date", "allergies"),
    "disease": ("kmt2a", "cns"),
    "genotype": ("tpmt", "nudt15"),  # optional; absent means unknown
}
ARRAYS = {
    "measurements": ("date", "weight", "length"),
    "mrd": ("timepoint", "value", "result", "method"),
    "remission": ("timepoint", "in_remission"),
    "anthracyclines": ("date", "drug", "amount"),
    "labs": ("date", "time", "test", "value", "hours_after_start"),
    "medications": ("name",),
}
CHOICES = {
    "sex": ("female", "male"),
    "kmt2a": ("rearranged", "germline"),
    "cns": ("CNS1", "CNS2", "CNS3"),
    "timepoint": ("day36", "after_HR1"),
    "method": ("flow", "PCR"),
    "drug": ("daunorubicin", "doxorubicin"),
    "tpmt": PHENOTYPES,
    "nudt15": PHENOTYPES,
}


def known_keys(where: str, table: dict, known) -> None:
    for key in table:
        if key not in known:
            near = get_close_matches(key, known, n=1)
            hint = f"did you mean '{near[0]}'?" if near else f"known fields: {', '.join(known)}"
            name = key if len(key) <= 40 else key[:40] + "…"  # a message is read, not a copy of the file
            raise InputError(f"{where}.{name}" if where else name, "is not a field of the patient file", hint)


def table_of(data: dict, name: str) -> dict:
    found = data.get(name)
    if found is None:
        raise InputError(f"[{name}]", "is missing", "see examples/ for a complete patient file")
    if not isinstance(found, dict):
        raise InputError(name, "must be a table", f"write it as [{name}] followed by its fields")
    known_keys(name, found, TABLES[name])
    return found


def entries_of(data: dict, name: str, required: bool = False):
    """Each [[name]] entry with its number from 1, its keys checked."""
    entries = data.get(name, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise InputError(name, "must be a list of tables", f"write each entry under [[{name}]]")
    if required and not entries:
        raise InputError(f"[[{name}]]", "is missing", f"add at least one [[{name}]] entry with date, weight and length")
    for i, entry in enumerate(entries, start=1):
        known_keys(f"{name}[{i}]", entry, ARRAYS[name])
        yield i, entry


def given(table: dict, key: str, where: str):
    """The value of `key`, which the file must give."""
    if key not in table:
        raise InputError(f"{where}.{key}", "is missing", example(key))
    return table[key]


def text(table: dict, key: str, where: str) -> str:
    value = given(table, key, where)
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{where}.{key}", "must be non-empty text in quotes", example(key))
    return one_line(value, f"{where}.{key}", example(key))


# Characters that print as nothing, or change the order of what is printed
# around them: control characters, format characters (zero-width spaces and
# joiners, left-to-right and right-to-left marks, embeddings, overrides and
# isolates, the byte-order mark), line and paragraph separators, private use.
# In a name or record number they make two different values look alike.
_HIDDEN = ("Cc", "Cf", "Zl", "Zp", "Co", "Cs")


def one_line(value: str, field: str, fix: str) -> str:
    """Text that prints as what it is: one short line, no invisible or reordering characters."""
    if len(value) > 200 or any(ord(c) < 32 for c in value):
        raise InputError(field, "must be one line of at most 200 characters", fix)
    for i, c in enumerate(value, start=1):
        if unicodedata.category(c) in _HIDDEN:
            name = unicodedata.name(c, "a control character")
            raise InputError(field, f"has an invisible character at character {i} (U+{ord(c):04X} {name}), which hides or "
                             "reorders what is printed around it", "retype it by hand (such characters come with text pasted "
                             "from other programs)")
    return value.strip()


def choice(table: dict, key: str, where: str) -> str:
    value = given(table, key, where)
    choices = CHOICES[key]
    if value not in choices:
        raise InputError(f"{where}.{key}", f"{brief(value)} is not one of {', '.join(map(repr, choices))}", f'write e.g. {key} = "{choices[0]}"')
    return value


def calendar_date(table: dict, key: str, where: str) -> date:
    value = given(table, key, where)
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            pass
    if type(value) is not date:
        raise InputError(f"{where}.{key}", f"{brief(value)} is not a calendar date", f"write it as {key} = 2026-05-04 (year-month-day)")
    return value


def allergies(table: dict) -> tuple[str, ...]:
    if "allergies" not in table:
        raise InputError(
            "patient.allergies", "is missing; the sheet will not guess",
            'write allergies = [] for no known allergies, or list them: allergies = ["penicillin"]',
        )
    value = table["allergies"]
    fix = 'write allergies = [] or allergies = ["penicillin"]'
    if not isinstance(value, list) or not all(isinstance(a, str) and a.strip() for a in value):
        raise InputError("patient.allergies", "must be a list of text", fix)
    return tuple(one_line(a, "patient.allergies", fix) for a in value)


def quantity(table: dict, key: str, where: str, kind: str, sample: str):
    """A positive number with its unit, written in quotes ("6.2 kg"), as a pint quantity of `kind`."""
    value = given(table, key, where)
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise InputError(f"{where}.{key}", f"{brief(value)} is not a {key}", f'write it with its unit in quotes, e.g. {key} = "{sample}"')
    if not isinstance(value, str):
        raise InputError(f"{where}.{key}", f"the number {value} has no unit", f'write it with its unit in quotes, e.g. {key} = "{sample}"')
    try:
        found = parse_measure(value, kind)
    except ValueError as exc:
        raise InputError(f"{where}.{key}", f"{brief(value)}: {exc}",
                         f'write one number and one unit, nothing after it, e.g. {key} = "{sample}"') from None
    if not found.magnitude > 0 or found.magnitude == float("inf"):
        raise InputError(f"{where}.{key}", f"{brief(value)} must be a positive number", f'write e.g. {key} = "{sample}"')
    return found


def after_birth(when: date, field: str, birth: date, what: str) -> None:
    """A date from birth to the oldest a child on the protocol can be (bounds.PROTOCOL_AGE_MAX_DAYS)."""
    if when < birth:
        raise InputError(field, f"{when} is before the birth date {birth}", f"check the date {what}")
    days = (when - birth).days
    if days > bounds.PROTOCOL_AGE_MAX_DAYS:
        raise InputError(field, f"{when} is {days} days after the birth date {birth}; a child on ALL-Baby-2021 is at most "
                         f"{bounds.PROTOCOL_AGE_MAX_DAYS} days old (diagnosed in the first year, treated until 104 weeks "
                         "after diagnosis)", f"check the date {what} and the birth date")
