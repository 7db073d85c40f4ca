"""Templates to HTML, HTML to PDF.

The HTML is self-contained (the stylesheet is inlined), so WeasyPrint needs
to fetch nothing: its URL fetcher refuses every URL. A name or id carrying
markup is escaped by Jinja2, and no input can make the PDF read a local file
or reach the network. WeasyPrint is imported only when a PDF is asked for.
"""

from functools import cache
from pathlib import Path


def templates_directory() -> Path:
    """templates/ of this checkout, or the copy installed inside the package (dosing/templates)."""
    package = Path(__file__).resolve().parent.parent  # dosing/, this module being dosing/documents/render.py
    for candidate in (package / "templates", package.parent / "templates"):
        if (candidate / "base.html").is_file():
            return candidate
    raise FileNotFoundError("the templates folder is missing from this installation")


@cache
def _environment():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_directory()),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@cache
def _css() -> str:
    return (templates_directory() / "sheet.css").read_text(encoding="utf-8")


def html(document) -> str:
    from dosing.formatting import tall_man

    template = _environment().get_template(document.template)
    # Tall Man letters over the whole page, source notes included: docs/safety.md asks for
    # them wherever a drug name is printed, not only where the code thought to.
    return tall_man(template.render(css=_css(), **document.context), document.context["tall_man"])


def pdf(document) -> bytes:
    return pdf_from_html(html(document))


def pdf_from_html(text: str, cache=None) -> bytes:
    """The PDF of this HTML; from `cache` (a dosing.documents.layout_cache.LayoutCache) when it holds it."""
    if cache is not None:
        kept = cache.get(text)
        if kept is not None:
            return kept
    import weasyprint

    # sheet.css, inlined in every sheet, is parsed once per process and given to WeasyPrint as a
    # stylesheet, not parsed again from each document (3-9 % of a sheet's layout work; README "Speed").
    inline, laid_out, sheets = "<style>" + _css() + "</style>", text, None
    if inline in text:
        laid_out, sheets = text.replace(inline, "<style></style>", 1), [_parsed_css()]
    made = weasyprint.HTML(string=laid_out, url_fetcher=_NoFetching(), base_url=None).write_pdf(stylesheets=sheets)
    if cache is not None:
        try:
            cache.put(text, made)
        except OSError:  # a cache that cannot be written (disk full) only costs the next layout
            pass
    return made


@cache
def _parsed_css():
    """sheet.css as WeasyPrint's parsed stylesheet, kept for the process. Its rules come from the
    user origin, so a template's own <style> (author) wins over it whatever the selectors' weight."""
    import weasyprint

    return weasyprint.CSS(string=_css(), url_fetcher=_NoFetching(), base_url=None)


def warm_up(page: bool = True) -> None:
    """Make this process, and the processes forked from it afterwards, ready to lay out sheets.

    sheet.css is parsed (about 35 ms, which each process would otherwise pay on
    its first sheet). With `page`, a small page using every font, size and
    table style of the sheets is laid out too: the first layout in a process
    pays for loading fonts and filling WeasyPrint's caches. The page costs
    0.2-0.3 s and saves each process about 0.03 s (measured in fresh
    processes): worth it for the web server's long-lived printer, not before
    a command's first sheet.
    """
    _parsed_css()
    if page:
        pdf_from_html(_WARM_UP.replace("/*css*/", _css()))


_WARM_UP = """<!DOCTYPE html><html><head><style>/*css*/</style></head><body>
<div class="page-header"><span class="who">Name 2026-01-01</span><br>Phase</div><div class="page-footer">Version 1</div>
<div class="draft-mark">DRAFT</div><h1>Order sheet</h1><p><strong>Bold</strong> <em>italic</em> text</p>
<div class="banner"><strong class="headline">REFERENCE VALUES</strong> text</div>
<div class="boxes"><div class="box"><dl><dt>Weight</dt><dd>5.2 kg</dd></dl></div><div class="box"><dl><dt>BSA</dt><dd><strong>0.3 m²</strong></dd></dl></div></div>
<div class="warnings"><h2>WARNINGS</h2><ul><li>warning</li></ul></div><p class="second-check">Checked.</p>
<div class="order"><h3>dexAMETHasone</h3><p class="meta">PO</p><p class="label">INTRATHECAL USE ONLY</p><p class="working">0.3 m² × 6 mg/m²</p>
<table class="days"><tr><th class="c-days">Days</th><th class="c-dose">Dose</th><th class="tag">Tag</th></tr>
<tr><td>1 to 7</td><td class="dose">1.2 mg</td><td class="tag">R</td></tr></table></div>
<table class="record systemic"><colgroup><col class="c-date"><col class="c-drug"><col class="c-dose"><col class="c-sign"><col></colgroup>
<thead><tr><th>Date</th><th>Drug</th><th>Dose, route, duration</th><th>Nurse</th><th>Why</th></tr></thead>
<tr><td class="nowrap">Mon 2026-06-01</td><td>drug</td><td class="given">1.2 mg IV<br><span>over 5 minutes</span></td></tr></table>
<table class="record spinal"><tr><td class="dose nowrap">6 mg</td><td class="route-it">INTRATHECAL</td></tr></table>
<svg width="120" height="40" viewBox="0 0 120 40"><defs><pattern id="w" width="4" height="4" patternUnits="userSpaceOnUse">
<path d="M0 4L4 0" stroke="black" stroke-width="0.5"/></pattern></defs><rect x="1" y="1" width="50" height="10" fill="url(#w)" stroke="black"/>
<polyline points="1,30 40,20 80,25" fill="none" stroke="black" stroke-dasharray="3 2"/><circle cx="40" cy="20" r="2"><title>point</title></circle>
<text x="60" y="10" font-size="7">label 1 Jun</text></svg>
<table class="calendar"><tr><th class="week">1</th><td><div class="cell-date">1 <span class="iso">06-01</span></div>
<div class="item spinal">IT</div><div class="bar">infusion</div><div class="test">MRD</div></td><td class="outside"></td></tr></table>
<table class="signatures"><tr><th>Prescriber</th><td></td></tr></table><p class="legend"><strong>R</strong> reference</p>
</body></html>"""


def _no_fetching_class():
    import weasyprint.urls

    class NoFetching(weasyprint.urls.URLFetcher):
        """Sheets are self-contained; any URL in one is refused, never fetched."""

        def fetch(self, url, headers=None):
            raise weasyprint.urls.FatalURLFetchingError(f"sheets fetch nothing, refused {url[:80]!r}")

    return NoFetching


def _NoFetching():
    return _no_fetching_class()()
