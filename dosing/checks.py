"""Warnings: the sheet is produced, and these are printed on it in a box.

Each function takes the computed PhaseOrders and returns plain sentences a
pharmacist can act on. Hard stops are raised where the fault is found (the
patient file, the regimen data, the dose engine); what is here never stops a
sheet.
"""

from dosing import bounds, fluid, growth
from dosing.formatting import band_text
from dosing.regimen import TAG_MEANING


def warnings(orders, administrations=None) -> list[str]:
    """Warnings for the phase, or only for some of its administrations (one document's)."""
    given = orders.administrations if administrations is None else administrations
    return [
        *_stale_measurement(orders),
        *growth.warnings(orders.patient, orders.measurement),
        *_age_band_changes(given),
        *_rounding(given, orders.protocol.rounding_warning.value),
        *(orders.anthracyclines.warnings if orders.anthracyclines and any(a.drug in ("daunorubicin", "doxorubicin") for a in given) else ()),
        *_unverified(orders, given),
        *(fluid.warnings(orders) if administrations is None or any(a.route == "IV" for a in given) else ()),
    ]


def _stale_measurement(orders) -> list[str]:
    age = (orders.start - orders.measurement.date).days
    if age > bounds.STALE_MEASUREMENT_DAYS:
        return [
            f"Weight and length were measured on {orders.measurement.date:%d %b %Y}, {age} days before the phase "
            f"starts (more than {bounds.STALE_MEASUREMENT_DAYS}): weigh and measure the infant and recalculate."
        ]
    return []


def _by_order(administrations):
    """The administrations of each order, in day order."""
    grouped = {}
    for administration in administrations:
        grouped.setdefault(id(administration.order), []).append(administration)
    return grouped.values()


def _age_band_changes(administrations) -> list[str]:
    """An infant fraction or INTRATHECAL band that changes inside the phase (safety.md)."""
    found = []
    for series in _by_order(administrations):
        for before, after in zip(series, series[1:]):
            name = f"{after.order.drug.print_name} {after.route}"
            when = f"from day {after.day} ({after.date:%d %b %Y}, age {after.age_months} months)"
            if after.band is not None and after.band != before.band:
                bands = after.order.age_bands
                found.append(
                    f"{name}: the INTRATHECAL age band changes inside this phase {when}: band "
                    f"{band_text(bands, after.band)}, {after.band.text} (was {before.band.text}, band "
                    f"{band_text(bands, before.band)})."
                )
            elif after.factor != before.factor:
                found.append(
                    f"{name}: the infant fraction changes inside this phase {when}: "
                    f"{_fraction(after.factor)} instead of {_fraction(before.factor)}."
                )
    return found


def _fraction(factor) -> str:
    return "full dose" if factor == 1 else f"{factor} of the dose"


def _rounding(administrations, above) -> list[str]:
    """One line for each run of days whose rounded dose is more than `above` (5 %, protocol.toml [warnings]) off."""
    found = []
    for series in _by_order(administrations):
        flagged = {}
        for a in series:
            if a.rounding_change > float(above):
                key = (a.calculated.m_as(a.dose.units), a.dose.m_as(a.dose.units))
                flagged.setdefault(key, []).append(a)
        for (calculated, given), runs in flagged.items():
            a = runs[0]
            days = ", ".join(str(r.day) for r in runs)
            found.append(
                f"{a.order.drug.print_name} {a.route} day{'s' if len(runs) > 1 else ''} {days}: rounding to the "
                f"{'measurable volume' if a.by_volume else 'product step'} moves each dose by {a.rounding_change:.1%} "
                f"(calculated {calculated:.4g} {a.dose.units:~P}, given {given:g} {a.dose.units:~P}); check with the prescriber."
            )
    return found


def _unverified(orders, administrations) -> list[str]:
    found = []
    if not orders.protocol.verified:
        found.append(
            "Reference values: the regimen has not been verified against the protocol document by a "
            "pharmacist of the treating centre."
        )
    if any(value.tag == "?" for a in administrations for value in a.values):
        found.append(f"DRAFT: the orders use placeholder values ({TAG_MEANING['?']}).")
    return found
