"""Reading a regimen file so that every complaint names its file, line and field.

`Source` holds a TOML file's text and data and finds the line of a table
header or a key; the small readers here take a value out of a table and
refuse it, with its line, when it is missing or malformed. Every protocol
value is written { value = ..., tag = ..., source = ... } and read by `tagged`.
"""

import re
import tomllib
from bisect import bisect_left, bisect_right
from functools import cached_property
from pathlib import Path

from dosing.errors import RegimenError
from dosing.regimen.model import TAGS, Value


def default_directory() -> Path:
    """regimens/ of this checkout, or the copy installed inside the package."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "regimens", package.parent / "regimens"):
        if (candidate / "drugs.toml").is_file():
            return candidate
    raise RegimenError(package.parent / "regimens", None, "the regimen data folder is missing from this installation")


class Source:
    """A data file's text, to point errors at the line they concern."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise RegimenError(path, None, "file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise RegimenError(path, None, f"cannot be read ({exc})") from None
        self.lines = self.text.splitlines()
        try:
            self.data = tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as exc:
            match = re.search(r"line (\d+)", str(exc))
            raise RegimenError(path, int(match.group(1)) if match else None, f"not valid TOML ({exc})") from None

    def header_line(self, header: str, index: int = 0) -> int | None:
        """Line of the index-th occurrence of a table header such as '[[order]]'."""
        found = self._index[1].get(header, ())
        return found[index] if index < len(found) else None

    def key_line(self, key: str, after: int | None) -> int | None:
        """Line of `key = ...` at or after a header line, before the next header.

        A key is found where it is written bare; a quoted key's line is not (the header's line is given).
        """
        opening, _, keys = self._index
        first = after or 1
        following = bisect_right(opening, first)  # the next line opening a table ends the search
        end = opening[following] if following < len(opening) else len(self.lines) + 1
        found = keys.get(key, ())
        at = bisect_left(found, first)
        return found[at] if at < len(found) and found[at] < end else after

    @cached_property
    def _index(self) -> tuple[list[int], dict, dict]:
        """Where each table header and key is written, read once: not once per header and key looked up
        (400 of them for a phase's orders, each a scan of the file).

        (the lines opening a table, as for key_line; header -> its lines, written alone or before a comment;
        key -> the lines it starts, before the first '=')
        """
        opening, headers, keys = [], {}, {}
        for n, line in enumerate(self.lines, start=1):
            written = line.lstrip()
            if written.startswith("["):
                opening.append(n)
                cut = written.find("#")
                while cut != -1:  # a '#' inside the header, as in [drugs."a#b"], may also start the comment
                    headers.setdefault(written[:cut].rstrip(), []).append(n)
                    cut = written.find("#", cut + 1)
                headers.setdefault(written.rstrip(), []).append(n)
            elif "=" in written:
                keys.setdefault(written[:written.index("=")].rstrip(), []).append(n)
        return opening, headers, keys

    def error(self, line, problem: str) -> RegimenError:
        return RegimenError(self.path, line, problem)


def known_keys(source, table: dict, known, line, where: str) -> None:
    for key in table:
        if key not in known:
            raise source.error(source.key_line(key, line) if line else line, f"{key!r} is not a field of {where}; known: {', '.join(known)}")


def table(source, data: dict, key: str, line, required: bool = True) -> dict:
    value = data.get(key, None if required else {})
    if not isinstance(value, dict):
        raise source.error(line, f"[{key}] is missing or not a table")
    return value


def text(source, entries: dict, key: str, line) -> str:
    value = entries.get(key)
    if not isinstance(value, str) or not value.strip():
        raise source.error(source.key_line(key, line), f"{key} must be non-empty text")
    return value


def provenance(source, raw: dict, key: str, at) -> None:
    """The tag and source every protocol value carries: no tag, no load."""
    if raw.get("tag") not in TAGS:
        raise source.error(at, f"{key} has no valid provenance tag (got {raw.get('tag')!r}); every value needs tag = \"S\", \"P\", \"A\" or \"?\"")
    if not isinstance(raw.get("source"), str) or not raw["source"].strip():
        raise source.error(at, f"{key} has no source; say where the value comes from")


def tagged(source, entries: dict, key: str, line, what: str, extra=()) -> Value:
    """A value written { value = ..., tag = ..., source = ... }: no tag, no load."""
    at = source.key_line(key, line)
    raw = entries.get(key)
    if raw is None:
        raise source.error(line, f"{key} is missing")
    if not isinstance(raw, dict) or "value" not in raw:
        raise source.error(at, f"{key} must be written {{ value = ..., tag = \"S|P|A|?\", source = \"...\" }}")
    unknown = set(raw) - {"value", "tag", "source", *extra}
    if unknown:
        raise source.error(at, f"{key} has unknown fields {sorted(unknown)}")
    provenance(source, raw, key, at)
    return Value(what=what, value=raw["value"], tag=raw["tag"], source=raw["source"])


def read(source, line, reader, *args):
    """`reader(*args)` from the grammar, its ValueError made a RegimenError at `line`."""
    try:
        return reader(*args)
    except ValueError as exc:
        raise source.error(line, str(exc)) from None
