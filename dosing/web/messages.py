"""The page's messages in the form's own words: each box named by its label, never a command-line option or the file's TOML.

The engine's messages are written for the command line and the patient file
(`--override-pathway "REASON"`, `labs[1].date`, `write e.g. weight = "6.2 kg"`);
the page shows the same message with each of those named as the page names it
("give a reason in 'Order this phase anyway, because'", "date in result row 3",
"write e.g. 6.2 kg"), through the one mapping of boxes to labels in dosing.web.form.
"""

import re

from dosing.errors import InputError
from dosing.web.form import PATIENT_BOXES, ROW_BOXES, label

_ARRAY = "|".join(ROW_BOXES)
_ROW_FIELD = re.compile(rf"^({_ARRAY})\[(\d{{1,3}})\]\.([a-z_]+)$")  #: a box of a row on the form: labs[3].value

#: the patient file's own phrasing where the form has a box of another shape
_FILE_PHRASES = {'write allergies = [] for no known allergies, or list them: allergies = ["penicillin"]':
                 "tick 'No known allergies', or list them in 'Allergies'", 'allergies = [] or allergies = ["penicillin"]':
                 "tick 'No known allergies', or list them in 'Allergies'", "see examples/ for the format": "fill it in"}
_KEYS = "|".join(sorted({k for _, _, columns in ROW_BOXES.values() for k in columns} | {k.split(".")[1] for k in PATIENT_BOXES if "." in k}
                        | {"result"}, key=len, reverse=True))
_FLAG = re.compile(r'--([a-z][a-z-]*)(?: ("[^"]*"|HH:MM|\d+\b|(?!(?:for|and|or|to|in|a|an|the)\b)[a-z_]+\b))?')
_FILE_ROW = re.compile(rf"\b({_ARRAY})\[(\d+)\](?:\.([a-z_]+))?")  #: a row of the file, or a field of one: labs[1].date


def in_form_words(error: InputError, where: dict[str, str]) -> str:
    """The error as the page says it: each box named by its label, never a command-line option or the file's TOML."""
    own = error.field.rpartition(".")[2]
    head = "" if error.field in ("", "output") else _named(error.field, where, head=True)
    problem, fix = (words(text, where, own) for text in (error.problem, error.fix))
    text = problem[:1].upper() + problem[1:] if not head else f"{head} {problem}" if problem.startswith(("is ", "must ")) else f"{head}: {problem}"
    return f"{text}; {fix}" if fix else text


def words(text: str, where: dict[str, str] | None = None, own: str = "") -> str:
    """Options, the file's rows and tables, and `key = "value"` in a message (or a warning), in the form's own words."""
    text = _FLAG.sub(lambda m: _flag(m[1], m[2]), text)
    text = re.sub(r'"([a-z_]+)"', lambda m: f"'{label(m[1])}'" if label(m[1]) != m[1].replace("_", " ") else m[0], text)  # the API's names
    text = re.sub(rf"\[\[({_ARRAY})\]\] entr(y|ies)", lambda m: f"row{'s' if m[2] == 'ies' else ''} under '{ROW_BOXES[m[1]][0]}'", text)
    text = re.sub(rf"\[\[({_ARRAY})\]\]", lambda m: f"'{ROW_BOXES[m[1]][0]}'", text)
    text = re.sub(r"\[(patient|disease|genotype)\]", lambda m: f"the {m[1]} section", text)
    text = _FILE_ROW.sub(lambda m: _named(m[0], where or {}), text)
    text = re.sub(r"\b(?:patient|disease|genotype)\.[a-z_]+\b", lambda m: _named(m[0], {}) if m[0] in PATIENT_BOXES else m[0], text)
    for file_words, form_words in _FILE_PHRASES.items():
        text = text.replace(file_words, form_words)
    return re.sub(rf'\b({_KEYS}) = ("([^"]*)"|[^\s,;)]+)',
                  lambda m: (m[3] if m[3] is not None else m[2]) if m[1] == own else f"{m[1].replace('_', ' ')} {m[3] or m[2]}", text)


def options_named(text: str) -> str:
    """A sheet's warning as the page shows it: the sheet's own words, but an option named by the page's box."""
    return _FLAG.sub(lambda m: _flag(m[1], m[2]), text)


def _flag(name: str, value: str | None) -> str:
    shown = f"'{label('--' + name)}'"
    if not value:
        return shown
    if value.startswith('"'):
        return f"a reason in {shown}" if value == '"REASON"' else f"{value} in {shown}"
    return f"{shown} ({value})" if value == "HH:MM" else f"{value} in {shown}"


def _named(field: str, where: dict[str, str], head: bool = False) -> str:
    """A field of the file (`labs[1].date`, the file's numbering), an option or a box, as the page names it ("date in result row 3")."""
    match = _FILE_ROW.fullmatch(field)
    if not match:
        name = ROW_BOXES[field.strip("[]")][0] if field.strip("[]") in ROW_BOXES else label(field)
        return name[:1].upper() + name[1:] if head else f"'{name}'"
    row = _ROW_FIELD.match(where.get(f"{match[1]}[{match[2]}]", f"{match[1]}[{match[2]}]") + ".x")
    named = f"{ROW_BOXES[match[1]][1]} row {row[2] if row else match[2]}"
    if match[3]:
        key = "value" if (match[1], match[3]) == ("mrd", "result") else match[3]
        named = f"{ROW_BOXES[match[1]][2].get(key, key.replace('_', ' ')).lower()} in {named}"
    return named[:1].upper() + named[1:] if head else named
