"""Laid-out documents kept by content, so the same HTML is never laid out twice.

Laying out a phase's documents costs seconds of WeasyPrint; a reissue whose
documents did not change, or an Issue after its preview, asks for exactly the
same PDFs again. The cache keys each PDF on SHA-256 over the renderer's
identity (WeasyPrint, pydyf, Pango and this package's versions, and the
installed font files) and the exact HTML, so a document whose content differs
by one character, or one laid out by another renderer, is never found.

Each entry is one file, `<key>.pdf-entry`, holding a header (the key, the
renderer's identity, the PDF's length and its SHA-256) and then the PDF. A
read checks all of it; anything that does not match (a truncated, corrupted
or foreign file) is a miss, is removed, and the document is laid out again.
Entries are written to a temporary file and renamed into place, so a writer
killed halfway leaves only a temporary file, which is never read and is
removed later. The folder lives inside the output folder (`<out>/.layout-cache`:
nothing is written outside it) and is bounded in size, the least recently
used entries going first.
"""

import hashlib
import os
import secrets
import time
from functools import cache
from pathlib import Path

import attrs

FOLDER = ".layout-cache"

# 200 MB: a phase's PDFs are 30-400 kB each (the 104-week maintenance's record
# is the largest), so this holds several thousand documents: every document of
# a few hundred patients' phases, which is more than a pharmacy reissues in a
# working week, while staying small beside the issued sheets themselves.
LIMIT_BYTES = 200 * 1024 * 1024

_MAGIC = b"dosing layout cache 1\n"
_SUFFIX = ".pdf-entry"
_WRITING = ".writing-"  #: an entry being written; never read
_STALE_TEMPORARY_SECONDS = 3600  # a temporary file this old belongs to a writer that died


@attrs.frozen
class LayoutCache:
    """The cache of one output folder. Small and picklable: it is sent to the printer's workers."""

    folder: Path = attrs.field(converter=Path)
    limit_bytes: int = LIMIT_BYTES

    @classmethod
    def inside(cls, out, limit_bytes: int = LIMIT_BYTES) -> "LayoutCache":
        """The cache kept in an output folder (`<out>/.layout-cache`)."""
        return cls(Path(out) / FOLDER, limit_bytes)

    def key(self, html: str) -> str:
        return key(html)

    def get(self, html: str) -> bytes | None:
        """The PDF laid out from exactly this HTML by this renderer, or None."""
        wanted = key(html)
        path = self.folder / f"{wanted}{_SUFFIX}"
        try:
            data = path.read_bytes()
        except OSError:
            return None
        pdf = _checked(data, wanted)
        if pdf is None:  # damaged or foreign: never returned, and out of the way of the next write
            _remove(path)
            return None
        try:
            os.utime(path)  # recently used: evicted last
        except OSError:
            pass
        return pdf

    def put(self, html: str, pdf: bytes) -> None:
        """Keep a PDF under its HTML's key: written whole or not at all, then the folder trimmed to its limit."""
        wanted = key(html)
        header = b"".join([
            _MAGIC,
            f"key {wanted}\n".encode(),
            f"renderer {identity()}\n".encode(),
            f"length {len(pdf)}\n".encode(),
            f"sha256 {hashlib.sha256(pdf).hexdigest()}\n\n".encode(),
        ])
        if len(header) + len(pdf) > self.limit_bytes:
            return
        # Never the output folder itself: that is made, and checked, by the issuing (dosing.output).
        self.folder.mkdir(exist_ok=True)
        temporary = self.folder / f"{_WRITING}{secrets.token_hex(8)}"
        # 0666 less the umask, as the folder's other files: a shared folder's group reads it too
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(header)
                file.write(pdf)
            os.replace(temporary, self.folder / f"{wanted}{_SUFFIX}")
        except BaseException:
            _remove(temporary)
            raise
        self.trim()

    def trim(self) -> None:
        """Remove the least recently used entries until the folder is within its limit."""
        entries, total, now = [], 0, time.time()
        try:
            listing = list(os.scandir(self.folder))
        except OSError:
            return
        for entry in listing:
            try:
                status = entry.stat()
            except OSError:
                continue
            if entry.name.startswith(_WRITING):
                if now - status.st_mtime > _STALE_TEMPORARY_SECONDS:
                    _remove(Path(entry.path))
                continue
            if entry.name.endswith(_SUFFIX):
                entries.append((status.st_mtime_ns, entry.name, status.st_size, entry.path))
                total += status.st_size
        for _, _, size, path in sorted(entries):
            if total <= self.limit_bytes:
                break
            _remove(Path(path))
            total -= size


def key(html: str) -> str:
    """SHA-256 over the renderer's identity and the exact HTML."""
    digest = hashlib.sha256(identity().encode())
    digest.update(b"\0")
    digest.update(html.encode("utf-8"))
    return digest.hexdigest()


@cache
def identity() -> str:
    """Everything besides the HTML that changes what a layout writes, as one line."""
    import pydyf
    import weasyprint
    from weasyprint.text.ffi import pango

    import dosing

    return (f"weasyprint {weasyprint.__version__}; pydyf {pydyf.__version__}; "
            f"pango {pango.pango_version()}; dosing {dosing.__version__}; fonts {_fonts()}")


def _fonts() -> str:
    """A fingerprint of the installed font files (a font update changes the glyphs a sheet is drawn with)."""
    digest = hashlib.sha256()
    folders = ["/usr/share/fonts", "/usr/local/share/fonts", "~/.fonts", "~/.local/share/fonts"]
    for folder in folders:
        for root, directories, files in os.walk(os.path.expanduser(folder)):
            directories.sort()
            for name in sorted(files):
                try:
                    status = os.stat(os.path.join(root, name))
                except OSError:
                    continue
                digest.update(f"{root}/{name} {status.st_size} {status.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def _checked(data: bytes, wanted: str) -> bytes | None:
    """The PDF in an entry if every line of its header holds for it and for the key asked for."""
    if not data.startswith(_MAGIC):
        return None
    head, separator, pdf = data[len(_MAGIC):].partition(b"\n\n")
    if not separator:
        return None
    try:
        fields = dict(line.split(" ", 1) for line in head.decode().split("\n"))
        length = int(fields["length"])
    except (UnicodeDecodeError, ValueError, KeyError):
        return None
    if (fields.get("key") != wanted or fields.get("renderer") != identity() or length != len(pdf)
            or fields.get("sha256") != hashlib.sha256(pdf).hexdigest()):
        return None
    return pdf


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass
