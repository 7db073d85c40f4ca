"""The hashes the issue log records: of a file's bytes, and of the whole regimen data.

Used by store.py (what is recorded), chain.py (what is sealed) and
differences.py (whether the patient file or the regimen changed).
"""

import hashlib
from pathlib import Path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def regimen_hash(directory: Path) -> str:
    """One hash over every regimen data file, so a change to any of them shows."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*.toml") if p.is_file()):
        digest.update(str(path.relative_to(directory)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
