"""High-dose methotrexate, from hydration to rescue: the pipeline's rescue step (dosing.pipeline).

For a phase with a methotrexate IV order and a folinic acid IV order timed
after it (HR1, HR2), from regimens/<protocol>/methotrexate.toml
(docs/reference.md §12):

- hydration: the volumes for this infant's BSA, before, during and after;
- interacting medicines: each [[medications]] entry a class of the file names;
- without methotrexate levels: the phase's own folinic acid orders stand, and
  the levels to draw are listed (24, 36, 42, 48 hours, then every 24 hours);
- with levels (dosing.results.levels): folinic acid follows them. A level drawn
  at hour h decides the doses after h (the dose due at h is given while the
  result is awaited). The rescue runs every 6 hours from hour 42 until a level
  is below the stop threshold; the leucovorin label's table escalates it
  (150 mg every 3 hours until below 1 µmol/L, then 15 mg every 3 hours) and its
  72-hour row continues it. The phase's own doses (42, 48, 54 hours) are never
  dropped. The orders run to the next level to draw: the sheet is reissued as
  each level comes in (a changed patient file makes a new version).
- glucarpidase: each level above the consensus criteria.

The folinic acid order is replaced by one order per kind of dose (standard,
escalated, after escalation), so the doses step (dosing.schedule) works out
every dose as it does any order's, and the second check mirrors it
(dosing/second_check/rescue.py).
"""

from datetime import date, datetime, time, timedelta
from math import gcd

import attrs

from dosing import results
from dosing.errors import RegimenError
from dosing.regimen import Step, Timing, Value
from dosing.regimen.methotrexate import dose_of, load
from dosing.units import Q

STANDARD, ESCALATED, AFTER = "standard", "escalated", "after escalation"
ANCHOR = ("methotrexate", "IV")


@attrs.frozen
class Hydration:
    """The label's hydration for this infant's BSA (facts; worded on the sheet)."""

    bsa: object  #: m²
    before: object  #: mL over `before_hours`
    before_hours: int
    before_rate: object  #: mL/hour
    during: object  #: mL/day
    during_rate: object  #: mL/hour


@attrs.frozen
class Decision:
    """What one level decided: `outcome` is "stop", "continue", "late continue", "escalate" or "step down"."""

    level: object  #: results.LabResult
    umol: float  #: the level in µmol/L
    outcome: str
    threshold: float  #: the µmol/L the level was compared with
    row_hour: float | None  #: the table row's hour that judged it, where a row did
    rule: Value  #: the data value that decided it (tag and source)


@attrs.frozen
class Glucarpidase:
    """A level above the consensus criterion of its hour (docs/reference.md §12)."""

    level: object
    umol: float
    at_hour: float
    above: float


@attrs.frozen
class InteractingMedicine:
    medication: str  #: as the patient file writes it
    name: str  #: the name it matched
    interaction: object  #: regimen.methotrexate.Interaction


@attrs.frozen
class Rescue:
    """PhaseOrders.methotrexate: everything the high-dose methotrexate section and its findings print."""

    data: object  #: regimen.methotrexate.HighDose
    hydration: Hydration
    interactions: tuple[InteractingMedicine, ...]
    levels: tuple  #: the levels used, by hour
    decisions: tuple[Decision, ...]
    glucarpidase: tuple[Glucarpidase, ...]
    draws: tuple[float, ...]  #: hours of the levels still to draw (the next one, with levels)
    orders: tuple = ()  #: ((kind, Order), ...) that replace the phase's folinic acid order; empty: it stands
    doses: tuple = ()  #: ((hour, kind), ...) ordered here
    stopped_at: float | None = None  #: the hour of the level below the threshold
    clipped: bool = False  #: doses past the phase's last day are not on this sheet
    unplaced: tuple = ()  #: methotrexate levels without hours_after_start: not on the table, printed as not used

    @property
    def follows_levels(self) -> bool:
        return bool(self.orders)

    def kind_of(self, order) -> str | None:
        return next((kind for kind, o in self.orders if o is order), None)


def prepare(patient, protocol, phase, start: date, body, infusion_start: time | None):
    """(phase, Rescue | None): the phase with the rescue orders in place where levels are given."""
    data = load(protocol.directory)
    anchor = next((o for o in phase.orders if (o.drug.name, o.route) == ANCHOR), None)
    folinic = next((o for o in phase.orders if o.drug.name == "folinic_acid" and o.timing and o.timing.after == ANCHOR), None)
    if data is None or anchor is None or folinic is None:
        return phase, None
    water = hydration(data, body.bsa)
    interactions = tuple(InteractingMedicine(m, name, i) for m in patient.medications for i in data.interactions
                         if (name := i.matches(m)) is not None)
    # A level dated before day 1 belongs to an earlier course, never to this one.
    levels = tuple(level for level in results.levels(patient) if level.taken is None or level.taken.date() >= start)
    glucarpidase = tuple(g for g in (_glucarpidase(data, level) for level in levels) if g is not None)
    unplaced = tuple(r for r in patient.labs if r.test == "methotrexate" and r.hours_after_start is None)
    if not levels:
        draws = schedule(data, upto=max(data.draw_at_hours.value) + data.then_every_hours.value)
        return phase, Rescue(data, water, interactions, (), (), glucarpidase, draws, unplaced=unplaced)
    if folinic.steps[0].basis != dose_of(data.rescue_dose.value):
        raise RegimenError(data.path, None, f"the rescue dose {data.rescue_dose.value} is not the {phase.name} folinic acid order's "
                                            f"{folinic.steps[0].text}: make them agree")
    clock = datetime.combine(start, infusion_start or time(8, 0))
    last_hour = (datetime.combine(start + timedelta(days=phase.length_days.value), time(0)) - clock).total_seconds() / 3600
    minimum = tuple(folinic.timing.hours)
    decisions, doses, stopped_at = plan(data, levels, minimum)
    ordered = tuple((h, kind) for h, kind in doses if h < last_hour)
    orders = tuple((kind, _order(data, folinic, anchor, kind, [h for h, k in ordered if k == kind]))
                   for kind in (STANDARD, ESCALATED, AFTER) if any(k == kind for _, k in ordered))
    index = phase.orders.index(folinic)
    phase = attrs.evolve(phase, orders=phase.orders[:index] + tuple(o for _, o in orders) + phase.orders[index + 1:])
    draws = () if stopped_at is not None else (next_draw(data, levels[-1].hours_after_start),)
    return phase, Rescue(data, water, interactions, levels, decisions, glucarpidase, draws, orders, ordered, stopped_at,
                         clipped=len(ordered) < len(doses), unplaced=unplaced)


def hydration(data, bsa) -> Hydration:
    # e.g. 1,000 mL/m² × 0.3294 m² = 329.4 mL over 6 h = 54.9 mL/h; 3,000 mL/m²/day × 0.3294 m² = 988.2 mL/day = 41.175 mL/h
    before = (data.hydration_before.value * bsa).to("mL")
    during = (data.hydration_during.value * bsa).to("mL/day")
    return Hydration(bsa=bsa, before=before, before_hours=data.before_hours, before_rate=(before / Q(data.before_hours, "hour")).to("mL/hour"),
                     during=during, during_rate=during.to("mL/hour"))


def umol(level) -> float:
    return level.value.m_as("umol/L")


def plan(data, levels, minimum: tuple) -> tuple[tuple[Decision, ...], tuple, float | None]:
    """(decisions, ((hour, kind), ...), the stopping level's hour): the doses the levels give, up to the next level to draw.

    The doses fall on a grid from the rescue's first hour, every gcd of the intervals (3 hours);
    at each, the state is the one the levels drawn before it left.
    """
    start, every = data.from_hour.value, data.every_hours.value
    high, low = data.escalated.value, data.then.value
    step = gcd(int(every), int(high["every_hours"]), int(low["every_hours"]))
    decisions, state, stopped_at = [], STANDARD, None
    states = []  # (hour, state after that level)
    for level in levels:
        decision = decide(data, level, state)
        decisions.append(decision)
        state = {"stop": "stopped", "escalate": ESCALATED, "step down": AFTER}.get(decision.outcome, state)
        if decision.outcome != "stop" and state == "stopped":
            state = STANDARD  # a level at or above the threshold after one below it: the rescue resumes
        stopped_at = level.hours_after_start if state == "stopped" else None
        states.append((level.hours_after_start, state))
    last = levels[-1].hours_after_start
    end = max([*minimum, last if stopped_at is not None else next_draw(data, last)])
    doses, hour = [], start
    grid = set()
    while hour <= end:
        grid.add(hour)
        hour += step
    for hour in sorted(grid | set(minimum)):
        now = next((s for h, s in reversed(states) if h < hour), STANDARD)
        kind = {ESCALATED: ESCALATED, AFTER: AFTER}.get(now, STANDARD)
        due = {STANDARD: (hour - start) % every == 0, ESCALATED: (hour - start) % high["every_hours"] == 0,
               AFTER: (hour - start) % low["every_hours"] == 0, "stopped": False}[now]
        if due or (now in (STANDARD, "stopped") and hour in minimum):
            doses.append((hour, kind))
    return tuple(decisions), tuple(doses), stopped_at


def decide(data, level, state: str) -> Decision:
    """What a level drawn in `state` decides; the rows are judged by the hour before it (data.judged_by)."""
    hour, value = level.hours_after_start, umol(level)
    stop, late = data.stop_below.value, data.late.value
    early = _row(data.early.value, hour)
    if early is not None and value >= early[1] and state != ESCALATED:
        return Decision(level, value, "escalate", early[1], early[0], data.early)
    if hour >= late["at_hour"] and stop > value > late["above"]:
        return Decision(level, value, "late continue", late["above"], late["at_hour"], data.late)
    if value < stop:
        return Decision(level, value, "stop", stop, None, data.stop_below)
    if state == ESCALATED and value < data.escalated.value["until_below"]:
        return Decision(level, value, "step down", data.escalated.value["until_below"], None, data.escalated)
    rule = data.escalated if state == ESCALATED else data.stop_below
    return Decision(level, value, "continue", rule.value["until_below"] if state == ESCALATED else stop, None, rule)


def _row(rows, hour):
    """The row of the hour at or before `hour` (rows rise in hour), or None before the first."""
    return next((row for row in reversed(rows) if row[0] <= hour), None)


def _glucarpidase(data, level) -> Glucarpidase | None:
    row = _row(data.glucarpidase.value, level.hours_after_start)
    if row is not None and umol(level) > row[1]:
        return Glucarpidase(level, umol(level), row[0], row[1])
    return None


def schedule(data, upto: float) -> tuple[float, ...]:
    """The hours to draw levels at, up to `upto`: the listed hours, then every `then_every_hours` after the last."""
    hours, every = list(data.draw_at_hours.value), data.then_every_hours.value
    while hours[-1] + every <= upto:
        hours.append(hours[-1] + every)
    return tuple(h for h in hours if h <= upto)


def next_draw(data, after: float) -> float:
    """The first hour to draw a level at after `after`."""
    return next(h for h in schedule(data, after + max(data.then_every_hours.value, max(data.draw_at_hours.value))) if h > after)


def _order(data, folinic, anchor, kind: str, hours: list):
    """The folinic acid order of one kind of dose, timed after the methotrexate IV start."""
    timing = Value("timing", {"drug": "methotrexate", "route": "IV", "hours": hours}, *_provenance(data, kind))
    days = tuple(sorted({d + k for d in anchor.days for h in hours for k in range(int(h // 24), int((h + 23.99) // 24) + 1)}))
    if kind == STANDARD:
        dose, text, value = dose_of(data.rescue_dose.value), data.rescue_dose.value, data.rescue_dose
        fraction = folinic.infant_fraction
        note = f"Rescue that follows the methotrexate levels: every {data.every_hours.value} hours from hour {data.from_hour.value} until below {data.stop_below.value:g} µmol/L."
    else:
        entry = data.escalated if kind == ESCALATED else data.then
        text = entry.value["dose"]
        dose, value = dose_of(text), Value("dose", text, entry.tag, entry.source)
        fraction = Value("infant fraction applies", False, "A", "docs/reference.md §12: the leucovorin label's dose in mg, kept as the label writes it")
        note = (f"ESCALATED RESCUE ({'label table' if kind == ESCALATED else 'after escalation, below 1 µmol/L'}): "
                f"{text} every {entry.value['every_hours']} hours. {data.caveat.value}")
    step = Step(days=days, basis=dose, text=text, value=attrs.evolve(value, what="dose"))
    return attrs.evolve(folinic, steps=(step,), days=days, days_value=timing, infant_fraction=fraction, note=note,
                        timing=Timing(after=ANCHOR, hours=tuple(hours), value=timing))


def _provenance(data, kind: str) -> tuple[str, str]:
    entry = {STANDARD: data.every_hours, ESCALATED: data.escalated, AFTER: data.then}[kind]
    return entry.tag, entry.source


def findings(orders) -> list[tuple]:
    """(code, facts, subject, administrations) of each finding dosing.findings makes of PhaseOrders.methotrexate."""
    rescue = orders.methotrexate
    if rescue is None:
        return []
    infusion = tuple(a for a in orders.administrations if (a.drug, a.route) == ANCHOR)
    found = [("interacting medicine", m, "methotrexate IV", infusion) for m in rescue.interactions]
    found += [("glucarpidase", (g, rescue.data), "methotrexate IV", infusion) for g in rescue.glucarpidase]
    escalated = tuple(a for a in orders.administrations if rescue.kind_of(a.order) in (ESCALATED, AFTER))
    if escalated:
        found.append(("rescue escalated", rescue.data, "folinic acid IV", escalated))
    return found
