"""Templates to HTML, HTML to PDF.

The HTML is self-contained (the stylesheet is inlined), so WeasyPrint needs
to fetch nothing: its URL fetcher refuses every URL. A name or id carrying
markup is escaped by Jinja2, and no input can make the PDF read a local file
or reach the network. WeasyPrint is imported only when a PDF is asked for.
"""

from functools import cache
from pathlib import Path


def templates_directory() -> Path:
    """templates/ of this checkout, or the copy installed inside the package."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates", here.parent / "templates"):
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
    # Tall Man letters over the whole page, source notes included: safety.md asks for
    # them wherever a drug name is printed, not only where the code thought to.
    return tall_man(template.render(css=_css(), **document.context), document.context["tall_man"])


def pdf(document) -> bytes:
    import weasyprint

    return weasyprint.HTML(string=html(document), url_fetcher=_NoFetching(), base_url=None).write_pdf()


def pdfs(documents) -> list[bytes]:
    """Several documents as PDFs, laid out side by side on the machine's cores.

    Layout is most of the time a PDF takes, and each document is independent.
    Workers are forked after WeasyPrint is imported, so they start at once.
    """
    import os

    workers = min(len(documents), os.cpu_count() or 1)
    if workers < 2 or "fork" not in __import__("multiprocessing").get_all_start_methods():
        return [pdf(d) for d in documents]
    import multiprocessing

    import weasyprint  # noqa: F401  (imported before the fork, shared by the workers)

    with multiprocessing.get_context("fork").Pool(workers) as pool:
        # Longest first, so the two cores finish together.
        order = sorted(range(len(documents)), key=lambda i: -_weight(documents[i]))
        results = pool.map(pdf, [documents[i] for i in order], chunksize=1)
    by_index = dict(zip(order, results))
    return [by_index[i] for i in range(len(documents))]


def _weight(document) -> int:
    """A rough size of a document, to start the longest first."""
    context = document.context
    return len(context.get("record", {}).get("rows", [])) * 3 + len(context.get("days", [])) + 10


def _no_fetching_class():
    import weasyprint.urls

    class NoFetching(weasyprint.urls.URLFetcher):
        """Sheets are self-contained; any URL in one is refused, never fetched."""

        def fetch(self, url, headers=None):
            raise weasyprint.urls.FatalURLFetchingError(f"sheets fetch nothing, refused {url[:80]!r}")

    return NoFetching


def _NoFetching():
    return _no_fetching_class()()
