"""Every document a phase prints, from the computed PhaseOrders: text only, already formatted.

The documents read what the pipeline computed (doses, bags, totals, checks)
and word it; they work nothing out again. One module per document or idea:

- common.py: the header, the patient and body boxes and the warnings every document prints;
- orders.py: the order sheet and the INTRATHECAL sheet (systemic and spinal never on one page);
- bags.py: the blinatumomab infusion schedule and the pharmacy preparation worksheet;
- calendar.py and record.py: the nurse's phase calendar and bedside administration record;
- unverified.py: the assumed and placeholder values each document rests on;
- phrases.py: how a dose, a drug and an age are written on all of them;
- wording.py: the English of each finding of the checks (PhaseOrders.findings);
- json_orders.py: the machine-readable orders (docs/interfaces.md);
- render.py: templates/ to HTML, HTML to PDF; read_back.py: an issued document's text, read back.
"""

from datetime import datetime

import attrs


@attrs.frozen
class Document:
    kind: str  #: "orders", "intrathecal", "infusion", "preparation", "calendar", "administration-record": also the end of the file name
    title: str
    template: str
    context: dict


def documents(orders, produced: datetime | None = None, issue: dict | None = None) -> list[Document]:
    """The documents a phase prints: systemic orders, INTRATHECAL orders if any, the bags if any, the calendar and the record.

    `issue` is the version being issued: {"version", "replaces", "changes"}.
    """
    # Imported here, not above: the JSON orders import dosing.documents.json_orders, which
    # runs this package's __init__, and need none of the printed documents (tests/test_imports.py).
    from dosing.documents import bags, common, methotrexate
    from dosing.documents.calendar import calendar
    from dosing.documents.orders import punctures
    from dosing.documents.record import record
    from dosing.documents.unverified import values
    from dosing.documents.wording import for_administrations
    from dosing.pictures import anthracycline_chart, growth_chart

    produced = produced or datetime.now()
    issue = issue or {"version": 1, "replaces": None, "changes": []}
    systemic = [a for a in orders.administrations if a.route != "INTRATHECAL"]
    spinal = [a for a in orders.administrations if a.route == "INTRATHECAL"]
    found = []
    if systemic:
        context = common.with_start_criteria(common.context(orders, systemic, produced, "Chemotherapy orders"), orders)
        context["methotrexate"] = methotrexate.section(orders)  # high-dose methotrexate: hydration to rescue, or None
        context["growth"] = growth_chart.section(orders.patient, used=orders.measurement.date)  # on the WHO centile lines (issue 19)
        # the running total against the limit, only where the table is printed (issue 19)
        context["anthracycline_picture"] = anthracycline_chart.picture(orders) if context["anthracyclines"] else None
        found.append(Document("orders", "Chemotherapy orders", "orders.html", context))
    if spinal:
        context = common.context(orders, spinal, produced, "INTRATHECAL chemotherapy orders")
        context["punctures"] = punctures(spinal)
        found.append(Document("intrathecal", "INTRATHECAL chemotherapy orders", "intrathecal.html", context))
    if orders.bags:
        worked = bags.context(orders)  # the bags' words, worked out once for both documents
        # The nurse's schedule draws the course as a strip; the pharmacy's worksheet prints no picture.
        for kind, title, template, strip in (("infusion", "Blinatumomab infusion: bag schedule", "infusion.html", bags.strip(orders)),
                                             ("preparation", "Blinatumomab bags: pharmacy preparation worksheet", "preparation.html", None)):
            context = common.context(orders, systemic, produced, title)
            context.update(worked, strip=strip)
            found.append(Document(kind, title, template, context))
    every = systemic + spinal
    context = common.context(orders, every, produced, "Phase calendar")
    context["calendar"] = calendar(orders)
    found.append(Document("calendar", "Phase calendar", "calendar.html", context))
    # The record keeps INTRATHECAL apart like the order sheets: its first pages carry the
    # systemic warnings and values, its INTRATHECAL pages their own.
    context = common.context(orders, systemic or every, produced, "Bedside administration record")
    context["record"] = record(orders)
    context["spinal_warnings"] = for_administrations(orders, spinal) if spinal and systemic else []
    context["spinal_banner"] = values(orders, spinal) if spinal and systemic else []
    found.append(Document("administration-record", "Bedside administration record", "record.html", context))
    for document in found:
        document.context["issue"] = issue
    return found
