"""The file names issued sheets get: from the patient id, the phase and the start date only.

Used by the documents step (each document's name) and by issuing.py. No
patient file can steer where a sheet is written. The id part is the id itself
when it is plain (letters, digits and inner '-', at most 64 characters); any
other id is cleaned and cut, and gets '_' and 8 characters of its SHA-256, so
two ids never share a file name (`MRN/7` -> `MRN_7_…`, `MRN_7` -> `MRN_7_…`
with another hash).
"""

import hashlib
import re


def safe_id(patient_id: str) -> str:
    """The patient id as part of a file name: the id itself when plain, else cleaned, cut and tagged with its hash.

    Plain: letters, digits and '-' (not at either end), at most 64 characters.
    Anything else becomes '_', and the id part ends in '_' + 8 hex digits of the
    exact id's SHA-256. A plain id never holds '_', so it never meets a tagged one.
    """
    if len(patient_id) <= 64 and re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?", patient_id):
        return patient_id
    cleaned = re.sub(r"[^A-Za-z0-9-]+", "_", patient_id).strip("_-")[:55].rstrip("_-") or "patient"
    return f"{cleaned}_{hashlib.sha256(patient_id.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"


def safe_stem(patient_id: str, phase: str, start) -> str:
    """'MRN-000123_induction_2026-05-05'."""
    return f"{safe_id(patient_id)}_{phase}_{start.isoformat()}"
