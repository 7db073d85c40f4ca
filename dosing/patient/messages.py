"""How a refusal of the patient file shows what was written and what to write instead.

Shared by read.py (the file as TOML) and fields.py / build.py (each field):
every InputError they raise quotes the value briefly and gives an example.
"""

import reprlib

# The fix a message gives for a field, by its key; other keys point to examples/.
EXAMPLES = {
    "id": 'write e.g. id = "MRN-000123"',
    "name": 'write e.g. name = "Ivanova, Anna"',
    "date": "write e.g. date = 2026-05-04",
    "weight": 'write e.g. weight = "6.2 kg"',
    "length": 'write e.g. length = "63 cm"',
}


def example(key: str) -> str:
    return EXAMPLES.get(key, "see examples/ for the format")


# A value quoted in a message: short, and safe for values nested hundreds deep or holding themselves.
_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother, _REPR.maxlist, _REPR.maxdict = 2, 40, 40, 4, 4


def brief(value) -> str:
    return _REPR.repr(value)
