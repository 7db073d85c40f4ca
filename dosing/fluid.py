"""The fluid a phase's infusions give each day, against the infant's maintenance fluid (issue 12).

An infant's whole day of fluid is small: Holliday–Segar gives 100 mL/kg/day
for the first 10 kg, so 240 mL for 2.4 kg, which one 24-hour blinatumomab bag
(10 mL/h) takes entirely. Every infusion's volume comes from the data: an
intermittent infusion's from `[infusion_volumes]` in protocol.toml (a bag, or
the dose made up to a concentration), a continuous infusion's from its bags.
Above the share of maintenance fluid the protocol data sets, `excess` says by
how much and finds the lower-volume option (a finding: the sheet warns).
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


@attrs.frozen
class Excess:
    """Days whose infusions give more than the protocol's share of maintenance fluid (a finding: dosing.findings)."""

    days: tuple[int, ...]  #: the days over the share
    worst: Day  #: the day of those with the largest volume
    maintenance: object  #: pint mL a day, Holliday–Segar for the weight
    share: object  #: Fraction of maintenance fluid above which the sheet warns (protocol.toml [fluid])
    weight: object  #: pint kg
    bags: bool  #: a continuous infusion's bags are part of the volume
    lower: object  #: bags.BagSettings of the allowed bag with the least volume a day, where lower than the bags ordered


def excess(orders) -> Excess | None:
    """The fluid the infusions give above the protocol's share of maintenance fluid, or None."""
    found = limit(orders)
    if found is None:
        return None
    maintenance, most = found
    daily = _millilitres(orders)
    over = tuple(day for day, parts in sorted(daily.items()) if sum(parts.values()) > most.m_as(unit("mL")))
    if not over:
        return None
    worst = max((d for d in by_day(orders) if d.day in over), key=lambda d: d.volume)
    return Excess(over, worst, maintenance, orders.protocol.fluid.warn_above.value, orders.measurement.weight,
                  bool(orders.bags), _lower_volume(orders))


def _lower_volume(orders):
    """For a continuous infusion, the allowed bag with the least volume a day, where it is less than the bags ordered."""
    if not orders.bags:
        return None
    product, now = orders.product, orders.bags[0].settings
    allowed = [s for s in product.bags.values() if product.allows(s, orders.measurement.weight)]
    least = min(allowed, key=lambda s: s.rate)
    return least if least.rate < now.rate else None
