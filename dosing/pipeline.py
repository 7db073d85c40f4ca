"""A phase's orders for one infant, step by step: the one file to read for the data flow.

    patient file, regimen data    loaded by the callers (dosing.patient.load, dosing.regimen.load_protocol, load_phase)
      |
    dates          dosing.dates.check            day 1 refused, or allowed with its notices
    regimen        dosing.allergies              the substitution chosen put in; an allergy to a drug ordered stops
    body           dosing.body.measure           the measurement for day 1, the BSA as printed, the age on each day
    criteria       dosing.criteria.check         the results before day 1 against the phase's start criteria; one not met stops
    rescue         dosing.rescue.prepare         high-dose methotrexate: hydration, interactions, folinic acid by level
    doses          dosing.schedule.phase_orders  every administration, day by day, with its working
    schedule       dosing.bags.plan              a continuous infusion bag by bag
                   dosing.anthracyclines         cumulative anthracyclines before, in and after the phase
    checks         dosing.findings.find          structured findings (no English), once for the whole phase
    second check   dosing.second_check.check     the doses and bags worked out again from the files alone
      |
    documents      built by the callers from the computed orders: dosing.documents.documents (orders,
                   INTRATHECAL, calendar, record, bags) and dosing.documents.json_orders.as_dict, each
                   finding worded by dosing.documents.wording (sentences, notices, for_administrations)

Each step adds to the orders and changes nothing an earlier step made. A
step that finds the input wrong raises InputError (no sheet); one that finds
something a person must look at adds a finding (the sheet says it).
"""

from datetime import date, datetime, time

import attrs

from dosing import allergies, criteria, dates, rescue
from dosing.anthracyclines import cumulative
from dosing.body import measure
from dosing.findings import NOTICE, find
from dosing.schedule import phase_orders
from dosing.units import Q


def compute(patient, protocol, phase, start, options, today: date | None = None, *, patient_text: str, window_asked: dict | None = None):
    """The orders, after the start date's checks (dosing.dates); `today` only moves the far-from-today notice.

    Then the second check (dosing.second_check) works them out again from `patient_text` (the patient file
    as given) and the regimen files; `window_asked` (weeks, window_from), where the request is known, lets it
    choose the window itself. A disagreement refuses the sheet.
    """
    window = tuple(date.fromisoformat(d) for d in options["window"]) if options["window"] else None
    clock = time.fromisoformat(options["infusion_start"]) if options["infusion_start"] else None
    # dates: a start the protocol or the patient file rules out stops here; an override or a far date is a notice
    dated = dates.check(patient, protocol, phase, start, first_printed=window[0] if window else None, today_is=today,
                        override=options.get("override_dates"))
    # regimen, body, doses, schedule, checks
    orders = calculate(patient, protocol, phase, start, infusion_start=clock, window=window, override=options["override"],
                       bag_hours=options["bag_hours"], substitute=options.get("substitute"), notices=dated,
                       override_results=options.get("override_results"))
    # second check: refuses the sheet unless an independent calculation agrees
    second_check(patient_text, protocol, phase.name, start, options | (window_asked or {}), orders)
    return orders


def calculate(patient, protocol, phase, start: date, *, infusion_start: time | None = None, window: tuple[date, date] | None = None,
              override: str | None = None, bag_hours: int = 24, substitute: str | None = None, notices: tuple = (),
              override_results: str | None = None):
    """The orders with their findings, without the dates' and the second check (a resumption re-plans the bags first).

    `notices` are findings of the steps before (dosing.dates.check), printed first. `override_results` is the
    pharmacist's reason to start although a result fails a start criterion (printed on every page).
    """
    # regimen for this infant: the substitution the pharmacist chose replaces its drug; an allergy to a drug ordered stops
    phase, substitution = allergies.substitute(patient, protocol, phase, start, substitute)
    allergies.refuse(patient, protocol, phase)
    # body: the measurement day 1 uses and the BSA every dose uses
    body = measure(patient, protocol, start)
    # criteria: the results before day 1 against the phase's start criteria; one not met stops here unless overridden
    started = criteria.check(patient, protocol, phase, start, body.measurement, override_results)
    # rescue: high-dose methotrexate's folinic acid follows the levels in the patient file (dosing.rescue)
    phase, methotrexate = rescue.prepare(patient, protocol, phase, start, body, infusion_start)
    # doses: the administrations only (and the orders no dose step can give within the rounding bound)
    orders = phase_orders(patient, protocol, phase, start, body, infusion_start=infusion_start, window=window,
                          override=override, substitution=substitution)
    # schedule: a continuous infusion's bags, then the cumulative anthracyclines
    orders = plan_bags(orders, bag_hours)
    orders = attrs.evolve(orders, anthracyclines=cumulative(orders), methotrexate=methotrexate)
    # checks: every finding, once (the documents word them: dosing.documents.wording); the notices first, then
    # the start criteria's warning ahead of the other checks'
    found = find(orders)
    first = tuple(f for f in (*started, *found) if f.severity == NOTICE)
    return attrs.evolve(orders, findings=tuple(notices) + first + tuple(f for f in (*started, *found) if f.severity != NOTICE))


def plan_bags(orders, bag_hours: int):
    """A continuous infusion bag by bag (dosing.bags), the first going up at the infusion start on day 1."""
    continuous = [o for o in orders.phase.orders if o.continuous]
    if not continuous:
        return orders
    from dosing import bags  # only a phase with a continuous infusion (blinatumomab) loads the bag planner

    (order,) = continuous
    product = bags.load_product(orders.protocol.directory.parent, order.drug.name)
    first = next(a for a in orders.administrations if a.order is order)
    planned = bags.plan(first.total / Q(1, "day"), datetime.combine(orders.start, orders.infusion_start), bag_hours,
                        orders.measurement.weight, product, hours=24 * len(order.days))
    return attrs.evolve(orders, bags=tuple(planned), product=product)


def second_check(patient_text: str, protocol, phase_name: str, start: date, options: dict, orders) -> None:
    """Refuse the sheet unless the independent second calculation agrees with the engine on every dose and bag."""
    from dosing import second_check as independent
    from dosing.errors import InputError
    from dosing.documents.json_orders import as_dict

    differences = independent.check(patient_text, protocol.directory.parent, protocol.directory.name, phase_name, start, options,
                                    as_dict(orders))
    if differences:
        raise InputError(
            "second check", "the independent second calculation disagrees with the dose engine: " + "; ".join(differences[:5]),
            "no sheet was made; do not give these doses, and report this with the patient file",
        )
