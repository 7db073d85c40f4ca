"""What every document prints around its own part: the header, the patient and body boxes, the warnings.

Each document's context starts here, from the computed PhaseOrders and the
administrations that document carries (its route's, for the order sheets),
so the warnings, the values not verified and the rounding footnote speak of
that document's doses only. The warnings are the findings the pipeline's
checks stored (PhaseOrders.findings), worded by dosing.documents.wording:
the phase's notices first, then those about this document's administrations.
"""

from dosing import __version__
from dosing.body import BSA_FORMULAS, age_in_months
from dosing.documents.orders import day_by_day, order_blocks, rounding_rule, start_criteria
from dosing.documents.phrases import age_text
from dosing.documents.unverified import values
from dosing.documents.wording import for_administrations, notices
from dosing.dose import decimal
from dosing.draft import held_on_placeholder
from dosing.formatting import day, number
from dosing.regimen import TAG_MEANING
from dosing.regimen.criteria import criterion_text


def context(orders, administrations, produced, title) -> dict:
    """The template context of one document: text only, already formatted."""
    patient, measurement = orders.patient, orders.measurement
    banner = values(orders, administrations)
    return {
        "title": title,
        "produced": f"{produced:%d %b %Y %H:%M}",
        "version": __version__,
        "patient": {
            "name": patient.name,
            "id": patient.id,
            "birth_date": day(patient.birth_date),
            "sex": patient.sex,
            "diagnosis_date": day(patient.diagnosis_date),
            "allergies": ", ".join(patient.allergies) if patient.allergies else "No known allergies",
            "has_allergies": bool(patient.allergies),
            "disease": f"KMT2A {patient.kmt2a}, {patient.cns}",
            "age_at_start": age_text(age_in_months(patient.birth_date, orders.start)),
        },
        "protocol": {
            "name": orders.protocol.name,
            "registry": orders.protocol.registry,
            "version": orders.protocol.version,
            "verified": orders.protocol.verified,
            "verification": orders.protocol.verification,
        },
        "phase": {
            "title": orders.phase.title,
            "start": day(orders.start),
            "end": day(orders.end),
            "length": orders.last_day,
            "ends": orders.phase.ends.value if orders.phase.ends else None,
            "window": _window(orders),
            "titrated": orders.phase.titrated,
            "tests": _tests(orders),
            "infusion_start": orders.infusion_start.strftime("%H:%M") if orders.infusion_start else None,
            "infusion_what": "the first bag goes up" if orders.bags else "high-dose methotrexate starts",
        },
        "override": orders.override,
        # --override-results' reason, in every page's header as --override-dates' is (dosing.criteria)
        "results_override": next((f.facts.reason for f in orders.findings if f.code == "results override"), None),
        "anthracyclines": _anthracycline_rows(orders, administrations),
        "body": {
            "weight": _measure(measurement.weight, "kg"),
            "length": _measure(measurement.length, "cm"),
            "measured": day(measurement.date),
            "bsa": f"{number(decimal(orders.bsa, 'm**2'))} m²",
            "formula": BSA_FORMULAS[orders.bsa_formula][1] + (
                f", rounded half up to {number(decimal(orders.protocol.bsa_rounding.value, 'm**2'))} m² before any dose"
                if orders.protocol.bsa_rounding else ""),
        },
        "warnings": notices(orders) + for_administrations(orders, administrations),
        "orders": order_blocks(orders, administrations),
        "days": day_by_day(administrations),
        "banner": banner,
        "rounding_rule": rounding_rule(administrations),
        # a placeholder in this document's values, or doses left out (held) on a neutrophil floor the centre has
        # not set: every document of the sheet lacks them, so every one is a DRAFT
        "draft": any(row["tag"] == "?" for row in banner) or held_on_placeholder(orders),
        "tags": TAG_MEANING,
        "tall_man": {name: drug.print_name for name, drug in orders.protocol.drugs.items()},
    }


def with_start_criteria(context: dict, orders) -> dict:
    """The order sheet's context with its Start criteria box, and the criteria's assumed and placeholder values
    in its banner (a placeholder makes the sheet a DRAFT, as a placeholder dose does)."""
    box = start_criteria(orders)
    context["start_criteria"] = box
    if box is None:
        return context
    facts = next(f.facts for f in orders.findings if f.code == "start criteria")
    window = facts.within_days
    rows = [{"what": "start criteria: the window", "used_by": "Start criteria", "value": f"{window.value} days before day 1",
             "tag": window.tag, "source": window.source}]
    rows += [{"what": c.criterion.value.what, "used_by": "Start criteria", "value": criterion_text(c.criterion),
              "tag": c.criterion.value.tag, "source": c.criterion.value.source} for c in facts.checked]
    context["banner"] = context["banner"] + [row for row in rows if row["tag"] in ("A", "?")]
    context["draft"] = context["draft"] or any(row["tag"] == "?" for row in context["banner"])
    return context


def _anthracycline_rows(orders, administrations) -> list[dict] | None:
    """Before, this phase, after: on every document that orders DAUNOrubicin or DOXOrubicin."""
    if orders.anthracyclines is None or not any(a.drug in ("daunorubicin", "doxorubicin") for a in administrations):
        return None
    c = orders.anthracyclines

    def row(label, t):
        return {"label": label, "mg_per_m2": f"{number(round(t.mg_per_m2, 1))} mg/m²", "mg_per_kg": f"{number(round(t.mg_per_kg, 2))} mg/kg",
                "equivalent": f"{number(round(t.doxorubicin_equivalent, 1))} mg/m²"}
    return [row("Before this phase", c.before), row("This phase", c.this_phase), row("After this phase", c.after)]


def _window(orders) -> str | None:
    if orders.window is None:
        return None
    first, last = orders.administrations[0].date, orders.administrations[-1].date
    week = lambda on: (on - orders.start).days // 7 + 1  # noqa: E731
    return (f"this sheet covers weeks {week(orders.window[0])} to {week(min(orders.window[1], orders.end))}: "
            f"{day(max(orders.window[0], orders.start))} to {day(min(orders.window[1], orders.end))} "
            f"(doses from {day(first)} to {day(last)})")


def _tests(orders) -> list[str]:
    if orders.phase.tests is None:
        return []
    return [f"day {t['day']} ({day(orders.day_date(t['day']))}): {t['what']}" for t in orders.phase.tests.value if t["day"] <= orders.last_day]


def _measure(quantity, unit: str) -> str:
    """As written in the patient file, with the metric figure when it was not metric."""
    written_as = f"{number(quantity.magnitude)} {quantity.units:~P}"
    metric = f"{number(round(quantity.m_as(unit), 3))} {unit}"
    return metric if f"{quantity.units:~P}" == unit else f"{metric} (entered as {written_as})"
