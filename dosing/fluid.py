"""The fluid a phase's infusions give each day, against the infant's maintenance fluid (issue 12).

An infant's whole day of fluid is small: Holliday–Segar gives 100 mL/kg/day
for the first 10 kg, so 240 mL for 2.4 kg, which one 24-hour blinatumomab bag
(10 mL/h) takes entirely. Every infusion's volume comes from the data: an
intermittent infusion's from `[infusion_volumes]` in protocol.toml (a bag, or
the dose made up to a concentration), a continuous infusion's from its bags.
Above the share of maintenance fluid the protocol data sets, the sheet warns
and names the lower-volume option.
"""

from datetime import datetime, timedelta

import attrs

from dosing.units import Q, unit


@attrs.frozen
class Day:
    day: int
    volume: object  #: pint mL given by the infusions that day
    parts: tuple  #: ((name, pint mL), ...)


def by_day(orders) -> list[Day]:
    """The volume the infusions of `orders` give on each day, from the data."""
    return [Day(day, Q(sum(parts.values()), "mL"), tuple((name, Q(v, "mL")) for name, v in parts.items()))
            for day, parts in sorted(_millilitres(orders).items())]


def _millilitres(orders) -> dict[int, dict[str, float]]:
    """day -> infusion -> its volume as a magnitude in mL (quantities are made only for the days shown)."""
    volumes = orders.protocol.infusion_volumes
    ml = unit("mL")
    days: dict[int, dict[str, float]] = {}  # day -> drug -> mL, as magnitudes in mL until each day is summed
    # Most days repeat a dose: each distinct (order, dose, doses that day) is converted once.
    known: dict[tuple, float] = {}
    for a in orders.administrations:
        if a.route != "IV" or a.order.continuous or a.drug not in volumes:
            continue
        key = (id(a.order), a.dose.magnitude, a.times_per_day)
        if key not in known:
            setting = volumes[a.drug].value
            each = setting if setting.check("[volume]") else a.dose / setting
            known[key] = (each * a.times_per_day).m_as(ml)
        parts = days.setdefault(a.day, {})
        name = f"{a.order.drug.print_name} IV"
        parts[name] = parts.get(name, 0.0) + known[key]
    for bag in orders.bags:
        rate = bag.rate.m_as(unit("mL/hour"))
        for day, hours in _hours_by_day(orders, bag.start, bag.hours):
            parts = days.setdefault(day, {})  # a bag changed that day: one figure for the drug
            parts["blinatumomab infusion"] = parts.get("blinatumomab infusion", 0.0) + rate * hours
    return days


def _hours_by_day(orders, start: datetime, hours: float):
    """(day of the phase, hours of the bag that fall on it)."""
    end, moment = start + timedelta(hours=hours), start
    while moment < end:
        midnight = datetime.combine(moment.date() + timedelta(days=1), datetime.min.time())
        upto = min(end, midnight)
        yield (moment.date() - orders.start).days + 1, (upto - moment).total_seconds() / 3600
        moment = upto


def limit(orders):
    """(maintenance mL/day, the volume a day's infusions may give before a warning), or None without fluid data."""
    fluid = orders.protocol.fluid
    if fluid is None:
        return None
    daily = fluid.maintenance_per_day(orders.measurement.weight).m_as(unit("mL/day"))
    share = fluid.warn_above.value
    return Q(daily, "mL"), Q(daily * share.numerator / share.denominator, "mL")


def warnings(orders) -> list[str]:
    from dosing.formatting import day_ranges, number, percent

    found = limit(orders)
    if found is None:
        return []
    maintenance, most = found
    daily = _millilitres(orders)
    over = [day for day, parts in sorted(daily.items()) if sum(parts.values()) > most.m_as(unit("mL"))]
    if not over:
        return []
    worst = max((d for d in by_day(orders) if d.day in over), key=lambda d: d.volume)
    kg = number(round(orders.measurement.weight.m_as("kg"), 3))
    parts = ", ".join(f"{name} {number(round(volume.m_as('mL'), 1))} mL" for name, volume in worst.parts)
    text = (f"Fluid: on day{'s' if len(over) > 1 else ''} {day_ranges(over)} the infusions on this sheet give up to "
            f"{number(round(worst.volume.m_as('mL')))} mL a day ({parts}), "
            f"{number(round(worst.volume.m_as('mL') / maintenance.m_as('mL') * 100))} % of the maintenance fluid for {kg} kg "
            f"({number(round(maintenance.m_as('mL')))} mL a day by Holliday–Segar; the warning is above "
            f"{percent(orders.protocol.fluid.warn_above.value)}). Count it in the infant's total fluid.")
    return [text + " " + _lower_volume(orders)]


def _lower_volume(orders) -> str:
    """The lower-volume option: for a continuous infusion, the allowed bag with the least volume a day."""
    if orders.bags:
        product, now = orders.product, orders.bags[0].settings
        weight = orders.measurement.weight
        allowed = [s for s in product.bags.values() if product.allows(s, weight)]
        least = min(allowed, key=lambda s: s.rate)
        if least.rate < now.rate:
            return (f"Lower-volume option: {least.hours}-hour bags at {_rate(least.rate)} ({_rate(least.rate * Q(24, 'hour'), 'mL')} a day): "
                    f"order them with --bag-hours {least.hours}.")
        return f"These are already the lowest-volume bags allowed for {_rate(weight, 'kg')}."
    return "Lower-volume option: ask the pharmacy for the most concentrated preparation the products allow."


def _rate(quantity, unit: str = "mL/hour") -> str:
    from dosing.formatting import number

    shown = {"mL/hour": "mL/h"}.get(unit, unit)
    return f"{number(round(quantity.m_as(unit), 2))} {shown}"
