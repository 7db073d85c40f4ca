"""What an issued document itself prints, read back and set against what it should print (`dosing verify`).

The issue log says which file was issued; this module reads the file's own
text (a PDF with pypdf, an HTML sheet with the standard library's parser), so
that another patient's sheet copied in under this sheet's name fails on the
name and record number it prints, even if its hash was forged in the log.

What a document should print is taken from the same context the templates
render (dosing.documents.documents), built afresh from the recomputed
orders: the identity on every page (patient, born, record number, phase,
day 1, document, version), the body size, and every line of the document
that gives a dose (day, date, age, drug, dose, route; volume and band where
printed), in the order the template lays them out. The working and the tags
beside a dose are left out: they explain a dose, and their wording may
change between versions of dosing without the dose changing. Text is compared with all white space removed:
a PDF breaks lines inside table cells, and inside a long word where a column
is narrow (overflow-wrap), so spacing is the one thing a sheet may print
differently from the recomputation without changing what it says.
"""

import io
import re
import unicodedata
from html.parser import HTMLParser

import attrs

from dosing.errors import InputError


@attrs.frozen
class Printed:
    """What a document must print: `on_every_page` (each page, any order) and `in_order` (the whole text, in this order)."""

    on_every_page: tuple[tuple[str, str], ...]  #: (what it is, the text)
    in_order: tuple[tuple[str, str, str], ...]  #: (what it is, the text, where it is printed: the drug of an order's row)


def pages(name: str, content: bytes) -> list[str]:
    """The text of each page of an issued PDF, or of an HTML sheet as one page."""
    if content.startswith(b"%PDF-"):
        return _pdf_pages(name, content)
    head = content[:200].lstrip().lower()
    if head.startswith(b"<!doctype html") or head.startswith(b"<html"):
        try:
            return [html_text(content.decode("utf-8"))]
        except UnicodeDecodeError:
            raise InputError(name, "is not readable text (not UTF-8), so it is not a sheet dosing wrote") from None
    raise InputError(name, "is neither a PDF nor an HTML sheet, so its text cannot be read", "verify the PDF or HTML file that was issued")


def _pdf_pages(name: str, content: bytes) -> list[str]:
    from pypdf import PdfReader

    try:
        return [page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages]
    except Exception as exc:  # noqa: BLE001 - pypdf raises many kinds of error on a damaged file; each is the same answer
        raise InputError(name, f"cannot be read as a PDF ({type(exc).__name__}: {exc})",
                         "the file is damaged: do not give from it; issue the sheet again") from None


class _Text(HTMLParser):
    """The text a browser shows: the head (style, title) left out, every tag a word break."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.in_head = [], False

    def handle_starttag(self, tag, attributes):
        self.in_head = self.in_head or tag == "head"
        self.parts.append(" ")

    def handle_endtag(self, tag):
        self.in_head = self.in_head and tag != "head"
        self.parts.append(" ")

    def handle_data(self, data):
        if not self.in_head:
            self.parts.append(data)


def html_text(text: str) -> str:
    parser = _Text()
    parser.feed(text)
    parser.close()
    return " ".join("".join(parser.parts).split())


def squeezed(text: str) -> str:
    """The text with every space, line break and soft hyphen removed (see the module's note)."""
    return re.sub(r"[\s\u00ad\u200b]+", "", unicodedata.normalize("NFC", text))


def printed(document) -> Printed:
    """What `document` (a dosing.documents.Document) prints: identity on every page, then its dose lines in order."""
    from dosing.formatting import tall_man

    c = document.context
    patient, phase, issue = c["patient"], c["phase"], c["issue"]
    every = [
        ("patient", f"{patient['name']} · born {patient['birth_date']} · record no. {patient['id']}"),
        ("phase", f"{c['protocol']['name']} · {phase['title']} (day 1 = {phase['start']}) · {c['title']}"),
        ("version", f"· version {issue['version']} · produced"),
    ]
    ordered = []
    if issue["version"] > 1:
        ordered.append(("version", f"VERSION {issue['version']} – replaces {issue['replaces']}", ""))
    body = c["body"]
    if document.kind == "calendar":
        ordered.append(("body size", f"weight {body['weight']}, length {body['length']} ({body['measured']}), BSA {body['bsa']}", ""))
    else:
        ordered.append(("body size", f"Weight {body['weight']} Length {body['length']} Measured {body['measured']} BSA {body['bsa']}", ""))
    ordered += [("dose", line, where) for line, where in _dose_lines(document.kind, c)]
    names = c["tall_man"]
    return Printed(tuple((what, tall_man(text, names)) for what, text in every),
                   tuple((what, tall_man(text, names), tall_man(where, names)) for what, text, where in ordered))


def _dose_lines(kind: str, c: dict) -> list[tuple[str, str]]:
    """Every line of the document that gives a dose, as the template prints it, in the template's order; and where."""
    lines, rows = [], []
    if kind == "orders":
        for order in c["orders"]:
            heading = f"{order['drug']} – {order['route']}" + (f", {order['duration']}" if order["duration"] else "")
            lines.append(heading)
            rows += [(len(lines) + n, heading) for n in range(len(order["rows"]))]
            lines += [f"{r['days']} {r['dates']} {r['age']} {r['dose']}" for r in order["rows"]]
        lines += [f"{d['day']} {d['date']} {d['age']} {'; '.join(d['given'])}" for d in c["days"]]
    elif kind == "intrathecal":
        for p in c["punctures"]:
            for d in p["drugs"]:
                volume = f"{d['volume']} of {d['product']}" if d["volume"] else "product not in the regimen data: work out by hand"
                lines.append(f"{p['day']} {p['date']} {p['age']} {d['drug']} {d['dose']} {volume} INTRATHECAL {d['band']}")
    elif kind == "calendar":
        for week in c["calendar"]["weeks"]:
            cells = []
            for d in week["days"]:
                cells += [d["label"] + (f" · day {d['day']}" if d["day"] else ""), d["date"], *d["infusion"], *(f"▲ {t}" for t in d["bags"]),
                          *d["systemic"], *d["intrathecal"]] + ([f"TEST: {d['test']}"] if d["test"] else [])
            lines.append(f"{week['number']} " + " ".join(cells))
    elif kind == "administration-record":
        lines += [f"{r['weekday']} {r['date']} {r['day']} {r['planned']} {r['drug']} {r['which']} {r['dose']} {r['route']} {r['duration']}"
                  for r in c["record"]["rows"]]
        lines += [f"{r['weekday']} {r['date']} {r['day']} {r['drug']} {r['dose']} INTRATHECAL" for r in c["record"]["spinal"]]
    elif kind == "infusion":
        if c["premedication"]:
            lines.append(f"Premedication: dexamethasone {c['premedication']}, 30 to 60 minutes before bag 1 goes up")
        lines.append(f"Dose: {c['daily']} a day, continuously, for {c['course_hours']} hours ({c['course_days']}) in {len(c['bags'])} bags of "
                     f"{c['bag_hours']} hours")
        for b in c["bags"]:
            (up_on, up_at), (down_on, down_at) = b["start"].rsplit(" ", 1), b["end"].rsplit(" ", 1)
            lines.append(f"{b['number']} {up_on} {up_at} {b['hours']} h {down_on} {down_at} {b['dose']} {b['rate']} {b['volume']}")
    elif kind == "preparation":
        for b in c["bags"]:
            lines.append(f"Bag {b['number']}: {b['hours']} hours from {b['start']}" + (" – contains preservative" if b["preservative"] else ""))
            lines.append(f"{b['dose']} {b['vials']} {b['saline']} {b['stabiliser']} {b['drug_volume']} {b['total']} {b['volume']} "
                         f"{b['overfill']} {b['rate']}")
    else:
        raise ValueError(f"no dose lines known for a {kind} document")  # a new document kind must say what it prints
    where = dict(rows)
    return [(line, where.get(n, "")) for n, line in enumerate(lines)]


def differences(page_texts: list[str], expected: Printed) -> list[str]:
    """What the document does not print as it should, a line each (none: it prints all of it)."""
    found = []
    for what, text in expected.on_every_page:
        missing = [n for n, page in enumerate(page_texts, 1) if squeezed(text) not in squeezed(page)]
        if missing:
            where = ("the sheet does" if len(page_texts) == 1 else f"page {missing[0]} of {len(page_texts)} does" if len(missing) == 1
                     else f"pages {_pages(missing)} of {len(page_texts)} do")
            found.append(f"{where} not print the {what} the issue log records ({text.strip(' ·')})"
                         + _instead(what, page_texts[missing[0] - 1]))
    whole, at = squeezed(" ".join(page_texts)), 0
    doses = [text for what, text, _ in expected.in_order if what == "dose"]
    lost = []
    for what, text, where in expected.in_order:
        place = whole.find(squeezed(text), at)
        if place < 0:
            if what == "dose":
                lost.append(f"{where}: {text}" if where else text)
            else:
                found.append(f"the sheet does not print the {what} the recomputation gives ({text})")
        else:
            at = place + len(squeezed(text))
    if lost:
        found.append(f"{len(lost)} of the {len(doses)} dose lines the recomputation gives are not printed as it gives them, "
                     f"in its order; the first: {lost[0]}")
    return found


def _instead(what: str, page: str) -> str:
    """What the page prints in the identity's place, so a swapped sheet says whose it is."""
    pattern = {"patient": r"(\S.*? · born .+? · record no\. \S+)", "version": r"· (version \S+) · produced"}.get(what)
    for line in page.splitlines() if pattern else []:
        match = re.search(pattern, " ".join(line.split()))
        if match:
            return f"; it prints: {match[1]}"
    return ""


def _pages(numbers: list[int]) -> str:
    return ", ".join(str(n) for n in numbers[:10]) + (f" and {len(numbers) - 10} more" if len(numbers) > 10 else "")
