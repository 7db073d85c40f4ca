"""The page's form and the patient file: form rows <-> the TOML the command line reads, and the sheet's options.

The form's boxes are named as the patient file names its fields
(`measurements[2].weight`), so an error the patient loader gives lands beside
its box (`form_field`). The sheet's options are read with the same parsers as
the command line's (dosing.requests) into the same `Request`.
"""

import re
from datetime import date, time

import tomli_w

from dosing.errors import InputError
from dosing.requests import (DOCUMENTS, PHASES, OptionError, Request, parse_bag_hours, parse_date, parse_clock, parse_documents,
                             parse_reason, parse_weeks)


#: the patient file's arrays of tables, each a table of rows on the form: the section's title, what one row is called, and each column's label
ROW_BOXES = {
    "measurements": ("Weight and length", "measurement", {"date": "Date", "weight": "Weight", "length": "Length (recumbent)"}),
    "mrd": ("MRD results", "MRD result", {"timepoint": "Timepoint", "method": "Method", "value": "Result"}),
    "remission": ("Remission assessments", "remission assessment", {"timepoint": "Timepoint", "in_remission": "In remission?"}),
    "anthracyclines": ("Anthracycline doses already given (for the cumulative total)", "anthracycline dose",
                       {"date": "Date", "drug": "Drug", "amount": "Dose given"}),
    "labs": ("Blood and other results (counts, kidney, liver, methotrexate levels)", "result",
             {"date": "Date", "time": "Time", "test": "Test", "value": "Value with its unit",
              "hours_after_start": "Hours after start (methotrexate level)"}),
    "medications": ("Other medicines the infant receives (checked for interactions)", "medicine", {"name": "Medicine"}),
}
ARRAYS = {name: tuple(columns) for name, (_, _, columns) in ROW_BOXES.items()}  #: the fields the form shows for each row
#: how the page's list names a test a [[labs]] row may give (the file's name when it has none here)
_TEST_NAMES = {"anc": "neutrophils (ANC)", "wbc": "white cells (WBC)", "hemoglobin": "haemoglobin", "alt": "ALT",
               "methotrexate": "methotrexate level", "asparaginase_activity": "asparaginase activity"}
#: the patient file's single tables, each box named `table.key`; [genotype] is written only when a phenotype is known
TABLES = {"patient": ("id", "name", "sex", "birth_date", "diagnosis_date"), "disease": ("kmt2a", "cns"),
          "genotype": ("tpmt", "nudt15")}
_ARRAY = "|".join(ARRAYS)
_ROW_FIELD = re.compile(rf"^({_ARRAY})\[(\d{{1,3}})\]\.([a-z_]+)$")
#: a whole result (a count that fails a start criterion) or medicine refused: beside the box that decided it
_ROW_BOX = {"labs": "value", "medications": "name"}
#: a number of hours as a person types it; anything else goes to the loader as text, which it refuses with the fix
_HOURS = re.compile(r"^[+-]?\d{1,12}(\.\d{1,12})?$")


def form_rows(form) -> dict[str, list[int]]:
    """The row numbers the form holds for each array, in order."""
    rows = {name: set() for name in ARRAYS}
    for key in form:
        match = _ROW_FIELD.match(key)
        if match:
            rows[match[1]].add(int(match[2]))
    return {name: sorted(numbers) for name, numbers in rows.items()}


def lab_tests() -> list[tuple[str, str]]:
    """(the file's name, the page's name) of each test a [[labs]] row may give, from dosing.results."""
    from dosing.results import TESTS

    return [(test, _TEST_NAMES.get(test, test)) for test in TESTS]


def patient_data(form) -> tuple[dict, dict[str, str]]:
    """The patient file as a dict, from the form; and where each file row came from on the form.

    Blank rows are left out, so the file's `measurements[1]` (the loader counts
    from 1, as people do) may be row 3 on the form: the second result maps the
    file's name back to the form's.
    """
    value = lambda key: (form.get(key) or "").strip()  # noqa: E731
    patient = {key: value(f"patient.{key}") for key in TABLES["patient"]}
    for key in ("birth_date", "diagnosis_date"):
        patient[key] = _date_or_text(patient[key])
    if form.get("patient.no_known_allergies"):
        patient["allergies"] = []
    elif value("patient.allergies"):
        patient["allergies"] = [a.strip() for a in value("patient.allergies").split(";") if a.strip()]
    data = {
        "patient": {k: v for k, v in patient.items() if v != ""},
        "disease": {k: v for k in TABLES["disease"] if (v := value(f"disease.{k}"))},
    }
    if genotype := {k: v for k in TABLES["genotype"] if (v := value(f"genotype.{k}"))}:  # "unknown" is the blank choice
        data["genotype"] = genotype
    where, rows = {}, form_rows(form)
    for name, fields in ARRAYS.items():
        entries = []
        for row in rows[name]:
            entry = {field: value(f"{name}[{row}].{field}") for field in fields}
            if not any(entry.values()):
                continue
            where[f"{name}[{len(entries) + 1}]"] = f"{name}[{row}]"  # the loader counts from 1
            entries.append(_file_entry(name, entry))
        if entries:
            data[name] = entries
    return data, where


def _file_entry(name: str, entry: dict) -> dict:
    """One row of the form as the file writes it: dates bare, "negative" as a result, yes/no as true/false."""
    written = {k: v for k, v in entry.items() if v != ""}
    if "date" in written:
        written["date"] = _date_or_text(written["date"])
    if name == "mrd" and written.get("value", "").lower() == "negative":
        written["result"] = "negative"
        del written["value"]
    if name == "remission" and written.get("in_remission") in ("true", "false"):
        written["in_remission"] = written["in_remission"] == "true"
    if name == "labs" and _HOURS.match(written.get("hours_after_start", "")):
        hours = written["hours_after_start"]
        written["hours_after_start"] = float(hours) if "." in hours else int(hours)  # the file's number, as typed
    return written


def _date_or_text(text: str):
    try:
        return date.fromisoformat(text)
    except ValueError:
        return text  # the patient loader names the field and says how to write it


def form_values(data: dict) -> dict[str, str]:
    """A patient file's values as the form shows them (opening a file fills the form)."""
    values = {}
    for table in TABLES:
        for key, v in _table(data, table).items():
            if key == "allergies" and isinstance(v, list):
                values["patient.no_known_allergies"] = "on" if not v else ""
                values["patient.allergies"] = "; ".join(map(str, v))
            else:
                values[f"{table}.{key}"] = _shown(v)
    for name in ARRAYS:
        entries = data.get(name)
        for row, entry in enumerate(entries if isinstance(entries, list) else [], start=1):
            if not isinstance(entry, dict):
                continue
            for key, v in entry.items():
                key = "value" if (name, key) == ("mrd", "result") else key
                values[f"{name}[{row}].{key}"] = _shown(v)
    return values


def _table(data: dict, name: str) -> dict:
    found = data.get(name)
    return found if isinstance(found, dict) else {}


def _shown(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, time):  # a TOML time, 07:30:00, shown as the box asks for it when it has no seconds
        return value.isoformat(timespec="minutes" if not value.second and not value.microsecond else "auto")
    return value.isoformat() if isinstance(value, date) else str(value)


def patient_toml(data: dict) -> str:
    """The patient file the command line reads, as the page writes it."""
    return ("# ALL-Baby-2021 patient file, written by the dosing web page.\n"
            "# The command line reads it as it is: dosing plan THIS-FILE; dosing sheet THIS-FILE --phase ... --start ...\n"
            + tomli_w.dumps(data))


# -- one mapping from each box (and the command-line option it stands for) to the label the page shows: dosing.web.messages --

#: each sheet box: the command-line option it stands for, and its label on the page
SHEET_BOXES = {
    "sheet.phase": ("--phase", "Phase"),
    "sheet.start": ("--start", "Day 1 date"),
    "sheet.infusion_start": ("--infusion-start", "Infusion start on day 1"),
    "sheet.bag_hours": ("--bag-hours", "Blinatumomab bag hours"),
    "sheet.weeks": ("--weeks", "Weeks to print"),
    "sheet.window_from": ("--from", "First date printed"),
    "sheet.documents": ("--documents", "Documents"),
    "sheet.substitute": ("--substitute", "Substitution"),
    "sheet.override_pathway": ("--override-pathway", "Order this phase anyway, because"),
    "sheet.override_dates": ("--override-dates", "Use these dates anyway, because"),
    "sheet.override_results": ("--override-results", "Start despite the results, because"),
    "sheet.reissue": ("--reissue", "Issue a new version, because"),
    "sheet.stopped": ("--stopped", "Infusion stopped"),
    "sheet.restart": ("--restart", "Infusion restarts"),
}
#: each single box of the patient file, by the file's name for it
PATIENT_BOXES = {"patient.id": "Record number", "patient.name": "Name", "patient.sex": "Sex", "patient.birth_date": "Date of birth",
                 "patient.diagnosis_date": "Date of diagnosis", "patient.allergies": "Allergies", "disease.kmt2a": "KMT2A",
                 "disease.cns": "CNS status", "genotype.tpmt": "TPMT phenotype", "genotype.nudt15": "NUDT15 phenotype",
                 "patient_file": "Patient file"}
#: a box by its command-line option (--override-pathway) or by the API's name for it (override_pathway, dosing.pharmacy)
_OPTIONS = {name: box for box, (option, _) in SHEET_BOXES.items() for name in (option, option[2:].replace("-", "_"))}


def label(box: str) -> str:
    """The label the page shows for a box or option (a sheet option's, a patient field's, or a column of a table's row)."""
    box = _OPTIONS.get(box, box)
    if box in SHEET_BOXES:
        return SHEET_BOXES[box][1]
    match = _ROW_FIELD.match(box)
    if match:
        return ROW_BOXES[match[1]][2].get(match[3], match[3].replace("_", " "))
    return PATIENT_BOXES.get(box) or ("the folder the page writes to" if box == "--out" else box.lstrip("-").replace("-", " "))


def form_field(error: InputError, where: dict[str, str]) -> str:
    """The form box an error belongs beside: the file's name, mapped back to the form's row."""
    field = error.field
    if field.startswith("[["):  # a whole array, e.g. "[[measurements]] is missing"
        return field.strip("[]")
    if field.startswith("--") or field in _OPTIONS:
        return _OPTIONS.get(field, "sheet." + field[2:].replace("-", "_"))
    match = re.match(rf"^({_ARRAY})\[(\d+)\](.*)$", field)
    if match:
        field = where.get(f"{match[1]}[{match[2]}]", f"{match[1]}[{match[2]}]") + match[3]
        if re.search(r"^mrd\[\d+\](\.result)?$", field):
            field = re.sub(r"(\.result)?$", ".value", field, count=1)
        elif match[1] in _ROW_BOX and not match[3]:
            field += "." + _ROW_BOX[match[1]]
    if field == "output":
        return "sheet.reissue"
    return field


def sheet_request(values: dict, out) -> Request:
    """The sheet's options from the form, read as the command line reads them, into the same request."""
    def parsed(field, parse, required=False):
        return sheet_option(values, field, parse, required)

    kinds = [k for k in DOCUMENTS if values.get(f"sheet.documents.{k}")]
    bag_hours = parsed("bag_hours", parse_bag_hours)
    return Request(
        start=parsed("start", parse_date, required=True), out=out,
        infusion_start=parsed("infusion_start", parse_clock), weeks=parsed("weeks", parse_weeks),
        window_from=parsed("window_from", parse_date), bag_hours=bag_hours or 24,
        documents=parse_documents(",".join(kinds)) if kinds else None,
        override_pathway=parsed("override_pathway", parse_reason), reissue=parsed("reissue", parse_reason),
        override_dates=parsed("override_dates", parse_reason),
        override_results=parsed("override_results", parse_reason),
        substitute=values.get("sheet.substitute") or None,
    )


def phase_name(values: dict) -> str:
    """The phase chosen on the form; one not in the list is refused beside the list."""
    name = values.get("sheet.phase", "")
    if name not in PHASES:
        raise InputError("--phase", f"{name!r} is not a phase", "choose a phase from the list")
    return name


def sheet_option(values: dict, field: str, parse, required: bool = False):
    """A sheet option from the form, through the parser the command line reads it with (dosing.requests)."""
    text = (values.get(f"sheet.{field}") or "").strip()
    option = SHEET_BOXES[f"sheet.{field}"][0]
    if not text:
        if required:
            raise InputError(option, "is needed", "fill it in")
        return None
    try:
        return parse(text)
    except OptionError as exc:
        raise InputError(option, str(exc)) from None
