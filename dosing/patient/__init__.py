"""The patient file (TOML, as docs/interfaces.md describes it): the first step of the data flow.

`load` reads a file into attrs classes whose quantities carry pint units.
Anything doubtful is refused with an InputError naming the field, such as
`measurements[2].weight`, and what to write instead: a dose is never computed
from a guess.

    patient file --read.py--> dict --build.py (fields.py per value)--> model.Patient --> body size and age

- read.py: the file's bytes into a dict, refusing hostile input (size, encoding, nesting, huge numbers);
- fields.py: the file's layout, and one value read and checked (text without invisible characters, a choice, a date, a quantity);
- labs.py: [[labs]] (dosing.results.LabResult), [genotype] and [[medications]], each value checked;
- build.py: the values assembled into a Patient, checked against one another (dates, the WHO standard for the age);
- model.py: Patient, Measurement, MRDResult, Remission, AnthracyclineDose (LabResult and Genotype are dosing.results');
- messages.py: how a refusal quotes a value and gives an example.
"""

from dosing.patient.build import from_dict
from dosing.patient.model import AnthracyclineDose, Measurement, MRDResult, Patient, Remission
from dosing.patient.read import MAX_FILE_BYTES, MAX_NESTING, read_file, read_toml

__all__ = ["AnthracyclineDose", "MAX_FILE_BYTES", "MAX_NESTING", "MRDResult", "Measurement", "Patient", "Remission",
           "from_dict", "load", "read_file", "read_toml"]


def load(path) -> Patient:
    """The patient file at `path`, read and checked: the Patient every later step starts from."""
    return from_dict(read_file(path))
