"""The computation of a phase's orders, in the order it happens (issue 14, item 2)."""

from datetime import date, time


def compute(patient, protocol, phase, start, options, today: date | None = None, *, patient_text: str, window_asked: dict | None = None):
    """The orders, after the start date's checks (dosing.dates); `today` only moves the far-from-today warning.

    Then the second check (dosing.second_check) works them out again from `patient_text` (the patient file
    as given) and the regimen files; `window_asked` (weeks, window_from), where the request is known, lets it
    choose the window itself. A disagreement refuses the sheet.
    """
    from dosing import dates
    from dosing.schedule import phase_orders, with_notice

    window = tuple(date.fromisoformat(d) for d in options["window"]) if options["window"] else None
    clock = time.fromisoformat(options["infusion_start"]) if options["infusion_start"] else None
    notices = dates.check(patient, protocol, phase, start, first_printed=window[0] if window else None, today_is=today,
                          override=options.get("override_dates"))
    orders = phase_orders(patient, protocol, phase, start, infusion_start=clock, window=window,
                          override=options["override"], bag_hours=options["bag_hours"], substitute=options.get("substitute"))
    for notice in reversed(notices):
        orders = with_notice(orders, notice)
    second_check(patient_text, protocol, phase.name, start, options | (window_asked or {}), orders)
    return orders


def second_check(patient_text: str, protocol, phase_name: str, start: date, options: dict, orders) -> None:
    """Refuse the sheet unless the independent second calculation agrees with the engine on every dose and bag."""
    from dosing import second_check as independent
    from dosing.errors import InputError
    from dosing.json_orders import as_dict

    differences = independent.check(patient_text, protocol.directory.parent, protocol.directory.name, phase_name, start, options,
                                    as_dict(orders))
    if differences:
        raise InputError(
            "second check", "the independent second calculation disagrees with the dose engine: " + "; ".join(differences[:5]),
            "no sheet was made; do not give these doses, and report this with the patient file",
        )
