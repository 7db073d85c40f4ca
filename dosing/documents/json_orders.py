"""The machine-readable orders (docs/interfaces.md).

Field names and meanings are a contract with scripts at the treating centre:
extend, never rename. Doses leave their pint quantities here, each converted
to a named unit first.
"""

from dosing.adjustments import lab_unit
from dosing.draft import is_draft
from dosing.formatting import percent, significant
from dosing.units import unit as _unit  # a unit parsed once: pint parses a unit's name on every m_as
from dosing.documents import methotrexate
from dosing.documents.wording import sentences
from dosing.regimen import weakest
from dosing.regimen.criteria import criterion_text, written_unit


def as_dict(orders) -> dict:
    return {
        "patient": {"id": orders.patient.id, "birth_date": orders.patient.birth_date.isoformat()},
        "protocol": orders.protocol.name,
        "phase": orders.phase.name,
        "start": orders.start.isoformat(),
        "end": orders.end.isoformat(),
        "measured": orders.measurement.date.isoformat(),
        "weight_kg": round(orders.measurement.weight.m_as(_unit("kg")), 4),
        "length_cm": round(orders.measurement.length.m_as(_unit("cm")), 2),
        "bsa_m2": round(orders.bsa.m_as(_unit("m**2")), 4),
        "bsa_formula": orders.bsa_formula,
        "last_day": orders.last_day,
        "verified": orders.protocol.verified,
        "override": orders.override,
        "window": {"from": orders.window[0].isoformat(), "to": orders.window[1].isoformat()} if orders.window else None,
        "infusion_start": orders.infusion_start.strftime("%H:%M") if orders.infusion_start else None,
        "draft": is_draft(orders),
        "administrations": methotrexate.marked(orders, [_administration(a) for a in orders.administrations]),
        **({"bags": [bag_dict(b) for b in orders.bags]} if orders.bags else {}),
        **({"anthracyclines": _anthracyclines(orders.anthracyclines)} if orders.anthracyclines else {}),
        **({"withheld": [_withheld(days) for days in orders.withheld]} if orders.withheld else {}),
        **({"substitution": {"name": orders.substitution.name, "replaces": orders.substitution.replaces,
                             "for": orders.substitution.answers}} if orders.substitution else {}),
        **methotrexate.as_json(orders),
        **_start_criteria(orders),
        "warnings": sentences(orders.findings),  # every finding, the notices first, as the sheets word them
    }


def _start_criteria(orders) -> dict:
    """`start_criteria` (each criterion, the result used and met / not met / no result / not set) and
    `results_override` (the reason to start anyway), only where the phase has start criteria (dosing.criteria)."""
    found = {f.code: f.facts for f in orders.findings if f.code in ("start criteria", "results override")}
    if "start criteria" not in found:
        return {}
    entries = []
    for c in found["start criteria"].checked:
        criterion = c.criterion
        entry = {"criterion": criterion_text(criterion), "test": criterion.test, "comparison": criterion.comparison,
                 "threshold": None if criterion.placeholder else criterion.limit.magnitude, "unit": criterion.unit,
                 "tag": criterion.value.tag, "source": criterion.value.source, "status": c.status, "result": None}
        if c.result is not None:
            entry["result"] = {"entry": c.result.entry, "field": c.result.field, "test": c.result.test,
                               "value": c.result.value.magnitude, "unit": written_unit(c.result.value),
                               "taken": c.result.taken.isoformat(timespec="minutes") if c.result.time_known else c.result.date.isoformat()}
        if c.egfr is not None:
            entry["egfr"] = {"value": round(c.value.magnitude, 2), "unit": written_unit(c.value), "k": c.egfr.k.value,
                             "k_tag": c.egfr.k.tag, "length_cm": c.egfr.length_cm,
                             "creatinine_mg_dl": round(c.egfr.creatinine_mg_dl, 4), "approximate": c.egfr.approximate}
        entries.append(entry)
    said = {"start_criteria": entries, "start_criteria_window_days": found["start criteria"].within_days.value}
    if "results override" in found:
        said["results_override"] = found["results override"].reason
    return said


def _administration(a) -> dict:
    unit = a.order.drug.unit
    entry = {
        "day": a.day,
        "date": a.date.isoformat(),
        "drug": a.drug,
        "route": a.route,
        "dose": float(significant(a.total.m_as(_unit(unit)), 12).replace(",", "")),
        "unit": unit,
        "times_per_day": a.times_per_day,
        "dose_each": float(significant(a.dose.m_as(_unit(unit)), 12).replace(",", "")),
        "basis": a.basis_text,
        "rule": a.rule,
        "age_months": a.age_months,
        "factor": str(a.factor),
        "calculated": round(a.daily_calculated.m_as(_unit(unit)), 4),
        "capped": a.capped,
        "provenance": weakest(v.tag for v in a.values),
    }
    if a.order.duration:
        entry["duration"] = a.order.duration.value
    if a.times:
        entry["times"] = [t.strftime("%H:%M") for t in a.times]
    if a.order.weekly:
        entry["weekly_on"] = f"{a.date:%A}"
    if a.order.continuous:
        entry["continuous"] = True
    if a.parts:
        entry["parts"] = [{"fraction": str(f), "dose": q.m_as(_unit(unit)), "over": over} for f, q, over in a.parts]
    if a.step is not None:
        entry["step"] = float(significant(a.step.m_as(_unit(unit)), 12).replace(",", ""))
    if a.volume is not None:
        entry["volume_ml"] = round(a.volume.m_as(_unit("mL")), 4)  # one dose, of `product`
        entry["product"] = a.product.form
        entry["measured_by_volume"] = a.by_volume
    if a.adjustment is not None:
        entry["adjustment"] = _adjustment(a.adjustment)
    return entry


def _adjustment(adjustment) -> dict:
    """What the results did to the dose (dosing.adjustments): its factor, why, and each result used."""
    said = {"factor": str(adjustment.factor), "reason": adjustment.reason,
            "results_used": [{"test": r.test, "value": r.value.magnitude, "unit": lab_unit(r.value), "date": r.date.isoformat(),
                              **({"time": f"{r.taken:%H:%M}"} if r.time_known else {}), "entry": r.entry}
                             for r in adjustment.results_used]}
    if adjustment.genotype is not None:
        said["genotype"] = {"tpmt": adjustment.genotype.tpmt, "nudt15": adjustment.genotype.nudt15}
    if adjustment.week_days is not None:
        said["week_days"] = list(adjustment.week_days)  # given only on these days of each week from day 1
    return said




def _withheld(days) -> dict:
    """An order not made: no step gives its dose within the rounding bound."""
    first = days[0]
    unit = first.order.drug.unit
    return {"drug": first.order.drug.name, "route": first.order.route, "days": [w.day for w in days],
            "calculated": [round(w.calculated.m_as(_unit(unit)), 6) for w in days], "unit": unit,
            "reason": f"no step gives the dose within {percent(first.bound.value)} of the calculated dose"}


def bag_dict(bag) -> dict:
    """One bag of a continuous infusion: when it goes up, what it delivers, how it is made."""
    return {
        "number": bag.number,
        "start": bag.start.isoformat(timespec="minutes"),
        "hours": bag.hours,
        "dose_mcg": round(bag.dose.m_as(_unit("mcg")), 4),
        "volume_ml": round(bag.volume.m_as(_unit("mL")), 2),
        "rate_ml_per_h": round(bag.rate.m_as(_unit("mL/hour")), 2),
        "preservative": bag.settings.preservative,
        "preparation": {
            "vials": bag.vials,
            "reconstituted_ml": round(bag.drug_volume.m_as(_unit("mL")), 2),
            "diluent": bag.settings.diluent,
            "diluent_ml": round(bag.settings.saline.m_as(_unit("mL")), 2),
            "stabiliser_ml": round(bag.settings.stabiliser.m_as(_unit("mL")), 2),
            "bag_volume_ml": round(bag.total_volume.m_as(_unit("mL")), 2),
            "overfill_ml": round(bag.overfill.m_as(_unit("mL")), 2),
            "delivers_mcg": round(bag.delivered.m_as(_unit("mcg")), 3),
        },
    }


def _anthracyclines(cumulative) -> dict:
    def total(t):
        return {"mg_per_m2": round(t.mg_per_m2, 2), "mg_per_kg": round(t.mg_per_kg, 3), "doxorubicin_equivalent_mg_per_m2": round(t.doxorubicin_equivalent, 2)}
    return {"before": total(cumulative.before), "this_phase": total(cumulative.this_phase), "after": total(cumulative.after)}
