"""The layout cache (dosing.documents.layout_cache): it gives back only what was laid out from exactly this HTML.

Every test lays out real pages with WeasyPrint and damages real files.
"""

import io
import os
import signal
import time

import pytest
from pypdf import PdfReader

from dosing.documents import layout_cache
from dosing.documents.layout_cache import LayoutCache
from dosing.documents.render import pdf_from_html


def _page(text: str) -> str:
    return f"<!DOCTYPE html><html><body><p>{text}</p></body></html>"


def _text(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture
def cache(tmp_path):
    (tmp_path / "out").mkdir()
    return LayoutCache.inside(tmp_path / "out")


def _entries(cache) -> list[str]:
    return sorted(p.name for p in cache.folder.iterdir() if p.name.endswith(".pdf-entry"))


def test_weasyprint_writes_the_same_bytes_for_the_same_html_so_a_hit_changes_nothing(cache):
    html = _page("Baby Petrov, MRN-100001, vinCRIStine 0.16 mg")
    first = pdf_from_html(html, cache)
    time.sleep(1.1)  # a creation date in the PDF would differ now
    assert pdf_from_html(html) == first  # laid out again without the cache: the very same bytes
    assert b"CreationDate" not in first and b"ModDate" not in first
    assert cache.get(html) == first
    assert _entries(cache) == [f"{cache.key(html)}.pdf-entry"]


def test_html_one_character_different_never_hits(cache):
    html = _page("vinCRIStine 0.16 mg")
    cache.put(html, pdf_from_html(html))
    other = _page("vinCRIStine 0.18 mg")
    assert cache.get(other) is None
    assert "0.18 mg" in _text(pdf_from_html(other, cache))
    assert "0.16 mg" in _text(cache.get(html)) and "0.18 mg" in _text(cache.get(other))


def test_another_renderer_never_hits(cache, monkeypatch):
    html = _page("laid out by WeasyPrint 70")
    cache.put(html, pdf_from_html(html))
    monkeypatch.setattr(layout_cache, "identity", lambda: "weasyprint 71.0; pydyf 0.13.0")
    assert cache.get(html) is None


@pytest.mark.parametrize("damage", ["a byte of the PDF flipped", "truncated", "the header garbled",
                                    "another document's entry under this name"])
def test_a_damaged_entry_is_a_miss_is_removed_and_is_laid_out_again(cache, damage):
    html = _page("cytarabine 15 mg intrathecal")
    good = pdf_from_html(html, cache)
    path = cache.folder / f"{cache.key(html)}.pdf-entry"
    data = path.read_bytes()
    if damage == "a byte of the PDF flipped":
        at = len(data) - 100
        path.write_bytes(data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:])
    elif damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "the header garbled":
        path.write_bytes(data.replace(b"length ", b"lenght ", 1))
    else:
        other = _page("methotrexate 6 mg intrathecal")
        pdf_from_html(other, cache)
        os.replace(cache.folder / f"{cache.key(other)}.pdf-entry", path)
    assert cache.get(html) is None
    assert not path.exists()  # removed, not read again
    assert pdf_from_html(html, cache) == good  # laid out again, and kept again
    assert cache.get(html) == good


def test_the_size_bound_evicts_the_least_recently_used(tmp_path):
    (tmp_path / "out").mkdir()
    htmls = [_page(f"document {n}") for n in range(4)]
    pdfs = [pdf_from_html(h) for h in htmls]
    entry = len(pdfs[0]) + 400  # a PDF and its header
    cache = LayoutCache.inside(tmp_path / "out", limit_bytes=3 * entry)
    for html, pdf in zip(htmls[:3], pdfs[:3]):
        cache.put(html, pdf)
        time.sleep(0.05)  # distinct modification times
    assert cache.get(htmls[0]) == pdfs[0]  # used: now the most recent
    time.sleep(0.05)
    cache.put(htmls[3], pdfs[3])  # over the limit: document 1, the least recently used, goes
    assert [cache.get(h) is not None for h in htmls] == [True, False, True, True]
    assert sum(p.stat().st_size for p in cache.folder.iterdir()) <= 3 * entry


def test_a_pdf_larger_than_the_whole_cache_is_not_kept(tmp_path):
    (tmp_path / "out").mkdir()
    html = _page("large")
    cache = LayoutCache.inside(tmp_path / "out", limit_bytes=1000)
    assert pdf_from_html(html, cache)[:5] == b"%PDF-"
    assert cache.get(html) is None and not any(cache.folder.glob("*.pdf-entry"))


@pytest.mark.parametrize("when", ["halfway through writing", "written, before the rename"])
def test_a_writer_killed_leaves_nothing_readable(cache, when):
    html = _page("dexAMETHasone 1.2 mg")
    pdf = pdf_from_html(html)
    pid = os.fork()
    if pid == 0:  # the writer, killed by a real SIGKILL at that point
        try:
            if when == "halfway through writing":
                real = os.fdopen

                class Half:
                    def __init__(self, handle, mode):
                        self.file = real(handle, mode)

                    def __enter__(self):
                        return self

                    def __exit__(self, *exc):
                        return False

                    def write(self, data):
                        self.file.write(data[: len(data) // 2])
                        self.file.flush()
                        os.kill(os.getpid(), signal.SIGKILL)

                os.fdopen = Half
            else:
                os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)
            cache.put(html, pdf)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    left = [p.name for p in cache.folder.iterdir()]
    assert len(left) == 1 and left[0].startswith(".writing-")  # a temporary file, never an entry
    assert cache.get(html) is None
    temporary = cache.folder / left[0]
    os.utime(temporary, (time.time() - 7200, time.time() - 7200))  # two hours on: its writer is long dead
    assert pdf_from_html(html, cache) == pdf  # laid out again; writing the entry tidies the folder
    assert [p.name for p in cache.folder.iterdir()] == [f"{cache.key(html)}.pdf-entry"]


def test_the_cache_never_makes_the_output_folder(tmp_path):
    cache = LayoutCache.inside(tmp_path / "not-made-yet")
    html = _page("nothing kept")
    assert pdf_from_html(html, cache)[:5] == b"%PDF-"  # laid out all the same
    assert not (tmp_path / "not-made-yet").exists()


def test_the_key_covers_the_renderer_and_every_character():
    identity = layout_cache.identity()
    for part in ("weasyprint ", "pydyf ", "pango ", "dosing ", "fonts "):
        assert part in identity
    assert layout_cache.key("a") != layout_cache.key("b") and len(layout_cache.key("a")) == 64
