"""The folinic acid rescue after high-dose methotrexate, worked out again from the files (the engine's: dosing/rescue.py).

Read here, not taken from the engine: methotrexate.toml (the rescue, the
leucovorin label's escalation rows), the phase's folinic acid order timed
after methotrexate IV, and the patient file's [[labs]] methotrexate levels
(hours_after_start; a level dated before day 1 is an earlier course's).
Without levels nothing changes: the phase's own orders are the expected ones.

With levels, a level at hour h decides the doses after h; doses fall every 3
hours from the rescue's first hour where the state then gives one: standard
(15 mg/m², every 6 hours), escalated (150 mg every 3 hours) or after
escalation (15 mg every 3 hours); none after a level below the stop threshold,
except the phase order's own hours. They run to the next level to draw.
Each dose of a day is keyed (drug, route, day, first time), as the engine's
JSON marks its rescue administrations ("rescue").
"""

import tomllib
from dataclasses import replace
from datetime import date, time
from math import gcd
from decimal import Decimal
from pathlib import Path

from . import reader
from .arithmetic import months
from .expected import _dose, _Rules, _slots
from .orders import read_phase

MICROMOLAR = ("umol/l", "µmol/l", "μmol/l")


def levels(patient_toml: str, start: date) -> list[tuple[Decimal, Decimal]]:
    """(hours after the start, µmol/L) of each methotrexate level of this course, by hour then file order."""
    found = []
    for i, entry in enumerate(tomllib.loads(patient_toml).get("labs", []), start=1):
        if entry.get("test") != "methotrexate" or entry.get("hours_after_start") is None:
            continue
        if "date" in entry and reader.a_date(entry["date"], f"labs[{i}].date") < start:
            continue  # an earlier course's level
        number, _, unit = str(entry["value"]).strip().partition(" ")
        if unit.strip().lower().replace(" ", "") not in MICROMOLAR:
            raise reader.Unreadable(f"labs[{i}].value {entry['value']!r} is not a level in µmol/L")
        found.append((Decimal(str(entry["hours_after_start"])), Decimal(number), i))
    return [(hours, value) for hours, value, _ in sorted(found)]


def follow_levels(mine, body, patient_toml: str, directory: Path, phase_name: str, start: date, options: dict) -> None:
    """Replace the expected folinic acid doses of `mine` (expected.Expected) by the rescue the levels give."""
    path = directory / "methotrexate.toml"
    measured = levels(patient_toml, start)
    if not path.is_file() or not measured:
        return
    data = reader.toml(path)
    protocol = reader.toml(directory / "protocol.toml")
    phase = read_phase(directory, phase_name, protocol, options.get("substitute"))
    anchor = next((o for o in phase.orders if (o.drug, o.route) == ("methotrexate", "IV")), None)
    folinic = next((o for o in phase.orders if o.drug == "folinic_acid" and o.after and o.after[0] == ("methotrexate", "IV")), None)
    if anchor is None or folinic is None:
        return
    doses = rescue_doses(data, measured, folinic.after[1])
    infusion = reader.clock(options["infusion_start"], None) if options.get("infusion_start") else time(8, 0)
    earlier = {("methotrexate", "IV"): _slots(anchor, start, infusion, {}, phase.orders)}
    rules = _Rules(protocol)
    for key in [k for k in mine.given if k[:2] == ("folinic_acid", "IV")]:
        del mine.given[key]
    for kind, dose_text, fraction_on in (("standard", reader.value(data["rescue"], "dose"), folinic.fraction_on),
                                         ("escalated", reader.value(data["escalation"], "escalated")["dose"], False),
                                         ("after escalation", reader.value(data["escalation"], "then")["dose"], False)):
        hours = tuple(h for h, k in doses if k == kind)
        if not hours:
            continue
        order = replace(folinic, after=(("methotrexate", "IV"), tuple(float(h) for h in hours)), fraction_on=fraction_on,
                        steps=((None, reader.dose(dose_text)),))
        by_day: dict[int, list] = {}
        for day, moment in _slots(order, start, infusion, earlier, phase.orders):
            if day <= mine.last_day:
                by_day.setdefault(day, []).append(moment)
        for day, moments in sorted(by_day.items()):
            on = date.fromordinal(start.toordinal() + day - 1)
            if mine.window is not None and not mine.window[0] <= on <= mine.window[1]:
                continue
            times = tuple(m.strftime("%H:%M") for m in moments)
            given = _dose(order, day, months(body.birth, on), times, mine.kg, mine.bsa, rules)
            mine.given[("folinic_acid", "IV", day, times[0])] = given


def rescue_doses(data: dict, measured: list, own_hours: tuple) -> list[tuple[Decimal, str]]:
    """((hour, kind), ...): the doses the levels give, to the next level to draw."""
    rescue, escalation = data["rescue"], data["escalation"]
    first, every = _d(reader.value(rescue, "from_hour")), _d(reader.value(rescue, "every_hours"))
    stop = _d(reader.value(rescue, "stop_below"))
    high, low = reader.value(escalation, "escalated"), reader.value(escalation, "then")
    late = reader.value(escalation, "late")
    early = [(_d(r["at_hour"]), _d(r["at_least"])) for r in reader.value(escalation, "early")]
    state, changes = "standard", []
    for hour, value in measured:
        row = [r for r in early if r[0] <= hour]
        if row and value >= row[-1][1] and state != "escalated":
            state = "escalated"
        elif hour >= _d(late["at_hour"]) and stop > value > _d(late["above"]):
            state = "standard" if state == "stopped" else state
        elif value < stop:
            state = "stopped"
        elif state == "escalated" and value < _d(high["until_below"]):
            state = "after escalation"
        elif state == "stopped":
            state = "standard"
        changes.append((hour, state))
    last = measured[-1][0]
    end = max([_d(h) for h in own_hours] + [last if state == "stopped" else _next_draw(data, last)])
    own = {_d(h) for h in own_hours}
    step = gcd(int(every), int(high["every_hours"]), int(low["every_hours"]))  # the grid every interval falls on
    hours, hour = set(own), first
    while hour <= end:
        hours.add(hour)
        hour += step
    doses = []
    for hour in sorted(hours):
        now = "standard"
        for at, s in changes:
            if at < hour:
                now = s
        interval = {"standard": every, "escalated": _d(high["every_hours"]), "after escalation": _d(low["every_hours"])}.get(now)
        on_clock = interval is not None and (hour - first) % interval == 0
        if on_clock or (now in ("standard", "stopped") and hour in own):
            doses.append((hour, "standard" if now == "stopped" else now))
    return doses


def _next_draw(data: dict, after: Decimal) -> Decimal:
    levels = data["levels"]
    hours = [_d(h) for h in reader.value(levels, "draw_at_hours")]
    every = _d(reader.value(levels, "then_every_hours"))
    while hours[-1] <= after:
        hours.append(hours[-1] + every)
    return next(h for h in hours if h > after)


def _d(number) -> Decimal:
    return Decimal(str(number))
