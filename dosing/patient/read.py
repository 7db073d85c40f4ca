"""The patient file's text into a plain dict, guarded against hostile input.

First step of the data flow: patient file → this module (bytes → text → dict)
→ build.py (dict → Patient). Nothing here knows what the fields mean; it only
makes sure that what reaches build.py is a small, UTF-8, readable TOML
document, and that a file which is none of these is refused with a message
naming the file or the field, never a traceback.
"""

import re
import tomllib
from pathlib import Path

from dosing.errors import InputError
from dosing.patient.messages import example

# Patient files are a few hundred bytes; anything far larger is not one.
MAX_FILE_BYTES = 256 * 1024

# A patient file nests three deep: the file, a table or [[array]], an entry;
# the deepest value is a list of text (allergies). Lists or tables nested
# deeper than this are not a slip in a field but something else entirely, and
# a value nested thousands deep (dotted keys make one without limit) would
# break whatever prints it.
MAX_NESTING = 8


def read_file(path) -> dict:
    """The patient file at `path` as a dict; refused, naming the file, when it cannot be one."""
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
        return read_toml(text)
    except InputError as exc:
        raise (exc if exc.field else InputError(str(path), exc.problem, exc.fix)) from None


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
    raise InputError(field, problem, example(field.rsplit(".", 1)[-1]))


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


# Compiled on first use (re keeps them): only a file the TOML reader refuses needs them.
_HEADER = r"^\s*(\[\[?)\s*([A-Za-z0-9_-]+)\s*\]\]?\s*(#.*)?$"
_ASSIGN = r"^\s*([A-Za-z0-9_-]+)\s*="


def _line_fields(text: str) -> list[tuple[str, int]]:
    """For each line, the field (e.g. measurements[1].weight) it belongs to and how many brackets are open on it.

    Only for the message when the TOML reader gives up, so it need not be a TOML
    parser: it follows [table] and [[array]] headers, keys, and quoted strings.
    """
    table, counts, field, depth, found = "", {}, "", 0, []
    for line in text.splitlines():
        start, deepest = 0, depth
        if depth == 0:
            header, assign = re.match(_HEADER, line), re.match(_ASSIGN, line)
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
