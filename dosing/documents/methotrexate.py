"""The "High-dose methotrexate" section of the order sheet, and its `methotrexate` object in the JSON orders.

From PhaseOrders.methotrexate (dosing.rescue.Rescue): the hydration orders
for this infant's BSA with the working, the urine pH target, the interacting
medicines found, the levels to draw (clock times from the infusion start) or
the levels measured with what each decided, and the glucarpidase line when a
level is above a criterion. Text only; templates/methotrexate.html lays it out.
"""

from datetime import datetime, timedelta

from dosing.formatting import number
from dosing.rescue import AFTER, ESCALATED, STANDARD

OUTCOME = {  # what a level decided, as the section prints it
    "stop": "below {threshold} µmol/L: the rescue stops after this level",
    "continue": "at or above {threshold} µmol/L: the rescue continues",
    "continue escalated": "at or above {threshold} µmol/L: the escalated rescue (150 mg every 3 hours) continues",
    "late continue": "above {threshold} µmol/L at {row} hours or later (label, delayed late elimination): the rescue continues",
    "escalate": "{threshold} µmol/L or more at {row} hours or later (label, delayed early elimination): ESCALATE",
    "step down": "below {threshold} µmol/L while escalated: 15 mg every 3 hours from here",
}
KIND_TEXT = {STANDARD: "standard rescue", ESCALATED: "escalated (label table)", AFTER: "after escalation (label table)"}


def _ml(quantity, unit: str) -> str:
    return f"{number(round(quantity.m_as(unit), 1))} {unit.replace('hour', 'h')}"


def _clock(orders, hours: float) -> datetime:
    return datetime.combine(orders.start, orders.infusion_start) + timedelta(hours=float(hours))


def _when(orders, hours: float) -> str:
    return f"{_clock(orders, hours):%a %d %b %H:%M}"


def section(orders) -> dict | None:
    """The section's text, or None for a phase without high-dose methotrexate."""
    rescue = orders.methotrexate
    if rescue is None:
        return None
    data, h = rescue.data, rescue.hydration
    bsa = number(round(h.bsa.m_as("m**2"), 4))
    before, during = data.hydration_before, data.hydration_during
    hydration = [
        {"when": f"{data.before_hours} hours before the infusion (from {_when(orders, -data.before_hours)})",
         "order": f"{_ml(h.before, 'mL')} over {data.before_hours} h = {_ml(h.before_rate, 'mL/hour')}",
         "working": f"{number(before.value.magnitude)} mL/m² × {bsa} m² = {_ml(h.before, 'mL')}; ÷ {data.before_hours} h = {_ml(h.before_rate, 'mL/hour')}",
         "tag": before.tag},
        {"when": f"during the infusion and for {data.after_days.value} days after (to {_when(orders, 24 + 24 * data.after_days.value)})",
         "order": f"{_ml(h.during, 'mL/day')} = {_ml(h.during_rate, 'mL/hour')}",
         "working": f"{number(during.value.magnitude)} mL/m²/day × {bsa} m² = {_ml(h.during, 'mL/day')}; ÷ 24 h = {_ml(h.during_rate, 'mL/hour')}",
         "tag": during.tag},
    ]
    levels = [{"hours": number(d.level.hours_after_start), "clock": _when(orders, d.level.hours_after_start),
               "value": f"{number(d.umol)} µmol/L", "entry": d.level.field,
               "decided": (OUTCOME["continue escalated"] if d.outcome == "continue" and d.rule is data.escalated else OUTCOME[d.outcome]).format(threshold=number(d.threshold), row=number(d.row_hour) if d.row_hour is not None else ""),
               "tag": d.rule.tag} for d in rescue.decisions]
    from dosing.pictures import methotrexate_chart  # here, not above: the JSON orders import this module and draw nothing

    return {
        # the levels against the table's thresholds; the table of levels below stays the figures signed against
        "chart": methotrexate_chart.chart(rescue, {d.level.entry: row["decided"] for d, row in zip(rescue.decisions, levels)}),
        "table_file": f"regimens/{data.path.parent.name}/{data.path.name}",
        "hydration": hydration,
        "hydration_source": before.source,
        "urine_ph": f"Keep urine pH above {number(data.urine_ph_above.value)} before and during the infusion (sodium bicarbonate); "
                    "test every urine and do not start the methotrexate until it is.",
        "urine_ph_tag": data.urine_ph_above.tag,
        "interactions": [{"medication": m.medication, "class": m.interaction.drug_class, "effect": m.interaction.effect.value,
                          "source": m.interaction.effect.source, "tag": m.interaction.effect.tag} for m in rescue.interactions],
        "interaction_classes": "; ".join(i.drug_class for i in data.interactions),
        "follows_levels": rescue.follows_levels,
        "levels": levels,
        "draws": [{"hours": number(hours), "clock": _when(orders, hours)} for hours in rescue.draws],
        "draw_rule": (f"then every {data.then_every_hours.value} hours until a level is below {number(data.stop_below.value)} µmol/L"),
        "draw_tag": data.draw_at_hours.tag,
        "stopped": number(rescue.stopped_at) if rescue.stopped_at is not None else None,
        "last_dose": _when(orders, rescue.doses[-1][0]) if rescue.doses else None,
        "clipped": rescue.clipped,
        "unplaced": [f"{r.field} ({number(r.value.m_as('umol/L'))} µmol/L)" for r in rescue.unplaced],
        "rescue_rule": (f"Folinic acid {data.rescue_dose.value.replace('m2', 'm²')} IV every {data.every_hours.value} hours from hour "
                        f"{number(data.from_hour.value)} until methotrexate is below {number(data.stop_below.value)} µmol/L"),
        "rescue_tag": data.rescue_dose.tag,
        "rescue_source": data.rescue_dose.source,
        "cohen": data.cohen.value,
        "caveat": data.caveat.value,
        "escalation": _escalation(data),
        "judged_by": data.judged_by.value,
        "glucarpidase": [_glucarpidase_line(data, g) for g in rescue.glucarpidase],
        "glucarpidase_criteria": ", ".join(f"above {number(above)} µmol/L at {number(hour)} h" for hour, above in data.glucarpidase.value),
        "glucarpidase_source": data.glucarpidase.source,
    }


def _escalation(data) -> list[str]:
    high, low, late = data.escalated.value, data.then.value, data.late.value
    early = " or ".join(f"{number(level)} µmol/L or more at {number(hour)} h" for hour, level in data.early.value)
    return [
        f"Delayed early elimination or kidney injury ({early}, or creatinine doubled at {number(data.creatinine_doubled_at_hour.value)} h): "
        f"{high['dose']} IV every {high['every_hours']} hours until below {number(high['until_below'])} µmol/L, then {low['dose']} every "
        f"{low['every_hours']} hours. Creatinine doubling is not read by this tool: if it has doubled, the prescriber escalates.",
        f"Delayed late elimination (above {number(late['above'])} µmol/L at {number(late['at_hour'])} h): continue the rescue every 6 hours.",
    ]


def _glucarpidase_line(data, g) -> str:
    window = data.best_within_hours.value
    return (f"GLUCARPIDASE: methotrexate {number(g.umol)} µmol/L at {number(g.level.hours_after_start)} h is above "
            f"{number(g.above)} µmol/L (the criterion at {number(g.at_hour)} h, after an infusion of {number(data.infusion_at_most_hours.value)} "
            f"hours or less): consider glucarpidase {data.with_creatinine.value}, best within {number(window[0])}–{number(window[1])} hours "
            f"of the start. Voraxaze {data.glucarpidase_dose.value} IV once (from {number(data.glucarpidase_from_months.value)} month); no folinic "
            f"acid within {number(data.folinic_gap_hours.value)} hours either side; measure methotrexate by a chromatographic method for "
            f"{number(data.assay_hours.value)} hours after it (immunoassays read the metabolite). ({data.glucarpidase.source})")


# -- the findings' sentences (dosing.documents.wording prints them in the WARNINGS box) ---------------


def _interacting_medicine(finding) -> str:
    facts = finding.facts
    return (f"INTERACTING MEDICINE before high-dose methotrexate: the patient's medication '{facts.medication}' is {facts.name}, "
            f"of the {facts.interaction.drug_class}, which {facts.interaction.effect.value}. Stop or replace it before the infusion, "
            f"or monitor levels closely if it cannot be stopped ({facts.interaction.effect.source}).")


def _glucarpidase(finding) -> str:
    level, data = finding.facts
    return (f"GLUCARPIDASE: methotrexate {number(level.umol)} µmol/L at {number(level.level.hours_after_start)} hours "
            f"({level.level.field}) is above {number(level.above)} µmol/L, the criterion at {number(level.at_hour)} hours: consider "
            f"glucarpidase {data.with_creatinine.value}, best within {number(data.best_within_hours.value[0])}–"
            f"{number(data.best_within_hours.value[1])} hours of the start (Ramsey 2018; docs/reference.md §12). See the "
            "High-dose methotrexate section of the order sheet.")


def _rescue_escalated(finding) -> str:
    return ("Folinic acid rescue ESCALATED by the methotrexate levels (leucovorin label table, tag A): " + finding.facts.caveat.value)


WORDS = {"interacting medicine": _interacting_medicine, "glucarpidase": _glucarpidase, "rescue escalated": _rescue_escalated}


# -- the JSON orders -------------------------------------------------------------------------


def marked(orders, entries: list) -> list:
    """The JSON administrations, each from a rescue that follows the levels marked with its kind (`rescue`)."""
    rescue = orders.methotrexate
    if rescue is None or not rescue.follows_levels:
        return entries
    for a, entry in zip(orders.administrations, entries):
        kind = rescue.kind_of(a.order)
        if kind is not None:
            entry["rescue"] = kind
    return entries


def as_json(orders) -> dict:
    """{"methotrexate": {...}} for a phase with high-dose methotrexate, else {} (docs/interfaces.md)."""
    rescue = orders.methotrexate
    if rescue is None:
        return {}
    h, data = rescue.hydration, rescue.data
    start = datetime.combine(orders.start, orders.infusion_start)
    return {"methotrexate": {
        "hydration": {"before_ml": round(h.before.m_as("mL"), 2), "before_hours": h.before_hours,
                      "before_ml_per_h": round(h.before_rate.m_as("mL/hour"), 2), "during_ml_per_day": round(h.during.m_as("mL/day"), 2),
                      "during_ml_per_h": round(h.during_rate.m_as("mL/hour"), 2), "after_days": data.after_days.value,
                      "urine_ph_above": data.urine_ph_above.value, "tag": data.hydration_before.tag, "source": data.hydration_before.source},
        "follows_levels": rescue.follows_levels,
        "levels_used": [_result(level) for level in rescue.levels],
        "decisions": [{"outcome": d.outcome, "threshold_umol_per_l": d.threshold, "row_hour": d.row_hour, "tag": d.rule.tag,
                       "source": d.rule.source, "results_used": [_result(d.level)]} for d in rescue.decisions],
        "rescue_doses": [{"hours_after_start": hours, "at": (start + timedelta(hours=float(hours))).isoformat(timespec="minutes"), "kind": kind}
                         for hours, kind in rescue.doses],
        "stopped_at_hours": rescue.stopped_at,
        "levels_to_draw": [{"hours_after_start": hours, "at": (start + timedelta(hours=float(hours))).isoformat(timespec="minutes")}
                           for hours in rescue.draws],
        "glucarpidase": [{"above_umol_per_l": g.above, "at_hour": g.at_hour, "tag": data.glucarpidase.tag, "source": data.glucarpidase.source,
                          "results_used": [_result(g.level)]} for g in rescue.glucarpidase],
        "interactions": [{"medication": m.medication, "matched": m.name, "class": m.interaction.drug_class, "tag": m.interaction.effect.tag,
                          "source": m.interaction.effect.source} for m in rescue.interactions],
    }}


def _result(level) -> dict:
    return {"entry": level.entry, "field": level.field, "test": level.test, "value": level.value.m_as("umol/L"), "unit": "umol/L",
            "hours_after_start": level.hours_after_start}
