"""What the team's pages show, from the store's records: the work lists by role, the administration record, the totals.

Plain functions from dicts to dicts; no request, no database. Drug names are
printed as the sheets print them (Tall Man letters, regimens/drugs.toml).
"""

from datetime import datetime


def work_lists(orders: list[dict], user) -> list[dict]:
    """The /orders page's lists for this user, in the order they should be worked through.

    A pharmacist first sees what waits for them (prepared by someone else: only a
    second pharmacist may verify), then what waits to be issued, then the rest;
    a nurse sees the issued orders (the ones to give); an admin sees everything.
    """
    def where(test):
        return [o for o in orders if test(o)]

    if user.role == "pharmacist":
        return [
            {"key": "verify", "title": "Awaiting your verification",
             "hint": "Prepared by another pharmacist: check the working and the warnings, then verify or reject.",
             "rows": where(lambda o: o["state"] == "prepared" and o["prepared_by"] != user.name)},
            {"key": "mine", "title": "Prepared by you, awaiting a second pharmacist",
             "hint": "You cannot verify your own order: another pharmacist must.",
             "rows": where(lambda o: o["state"] == "prepared" and o["prepared_by"] == user.name)},
            {"key": "issue", "title": "Verified, awaiting issue", "hint": "Issue lays out the PDFs from the verified working.",
             "rows": where(lambda o: o["state"] == "verified")},
            {"key": "recent", "title": "Issued and rejected", "hint": "Newest first.",
             "rows": where(lambda o: o["state"] in ("issued", "rejected"))},
        ]
    if user.role == "nurse":
        return [{"key": "issued", "title": "Issued orders", "hint": "Open an order to see its documents and record each administration.",
                 "rows": where(lambda o: o["state"] == "issued")}]
    return [{"key": "all", "title": "All orders", "hint": "Newest first.", "rows": orders}]


def record_rows(view, protocol) -> list[dict]:
    """One row per administration the order plans (item from 1, as the API numbers them), with its current record."""
    current = {a["item"]: a for a in view.administrations if a.get("current")}
    rows = []
    for item, planned in enumerate(view.orders.get("administrations", []), start=1):
        record = current.get(item)
        rows.append({"item": item, "day": planned.get("day"), "date": planned.get("date"),
                     "drug": drug_name(protocol, planned.get("drug", "")), "dose": dose_text(planned),
                     "route": planned.get("route", ""), "record": record and shown_record(record)})
    return rows


def shown_record(record: dict) -> dict:
    """A recorded administration with its times as the sheets print them (YYYY-MM-DD HH:MM)."""
    return record | {"given_at": moment(record.get("given_at")), "recorded_at": moment(record.get("recorded_at"))}


def totals_rows(view, protocol) -> list[dict]:
    """The cumulative totals per drug and route: planned, given so far, doses given / not given / open."""
    return [t | {"drug": drug_name(protocol, t["drug"]), "planned": amount(t.get("planned"), t.get("unit")),
                 "given": amount(t.get("given"), t.get("unit"))} for t in view.totals]


def drug_name(protocol, drug: str) -> str:
    found = getattr(protocol, "drugs", {}).get(drug)
    return getattr(found, "print_name", None) or drug


def dose_text(planned: dict) -> str:
    """The dose as the sheet prints it: the day's dose, and how it is split when given more than once a day."""
    dose = amount(planned.get("dose"), planned.get("unit"))
    times = planned.get("times_per_day") or 1
    if times > 1 and planned.get("dose_each") is not None:
        return f"{dose} ({times} × {amount(planned['dose_each'], planned.get('unit'))})"
    return dose


def amount(value, unit) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        value = f"{value:.4f}".rstrip("0").rstrip(".")  # 1.35, never 1.3500000000000001
    return f"{value} {unit}" if unit else str(value)


def moment(value) -> str:
    """A time as the pages print it, to the minute; '' for none."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value).replace("T", " ")[:16]


def detail_text(detail: dict | None) -> str:
    """An event's details as a line to read (key: value; ...), leaving out what is empty."""
    shown = []
    for key, value in (detail or {}).items():
        if value is None or value == [] or value == "":
            continue
        value = ", ".join(map(str, value)) if isinstance(value, list) else value
        shown.append(f"{key.replace('_', ' ')}: {value}")
    return "; ".join(shown)


def now_text() -> str:
    """Now, as the 'time given' box is filled in before the nurse changes it."""
    return datetime.now().strftime("%Y-%m-%d %H:%M")
