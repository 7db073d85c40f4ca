"""The second check: every dose and bag worked out again, sharing nothing with the engine but the files.

Computed twice on purpose. This package imports nothing from `dosing` and no
pint: it reads the patient file's text and the regimen TOML files with its own
plain reader (reader.py, following the written grammar of
regimens/grammar-examples.toml), chooses the measurement, the window, the
phase's last day and the age in months itself, does its arithmetic in Decimal
under a local context (the process's decimal context is never read or
changed), and compares its answer with the engine's JSON orders (the dict
`dosing.documents.json_orders.as_dict` makes, docs/interfaces.md) as plain data.

    check(patient_toml, regimens, protocol, phase, start, options, orders) -> list[str]

- `patient_toml`: the patient file's text, as the pharmacist gave it.
- `regimens`: the regimen folder (regimens/ or a centre's copy); `protocol`:
  the protocol's folder name in it ("all-baby-2021").
- `phase`: the phase's name; `start`: day 1.
- `options`: what `dosing.requests.request_options` records (infusion_start
  "HH:MM" or None, window [from, to] or None, bag_hours, substitute). Where
  the request's own choice is known, `weeks` and `window_from` too: the window
  is then derived here (the phase's default weeks where none are asked for),
  not taken from the engine. For a blinatumomab resumption, `stopped` and
  `restart` ("YYYY-MM-DDTHH:MM"): the bags are then those after the
  interruption.
- `orders`: the engine's JSON orders.

Returns the disagreements, one sentence each (drug, route, day, the engine's
value and this check's), empty when every dose, withheld dose and bag agrees.
A file this reader cannot read by the written grammar is a disagreement too.
"""

from datetime import date, datetime
from decimal import localcontext
from pathlib import Path

from .arithmetic import CONTEXT
from .compare import bag_differences, dose_differences, phase_differences
from .expected import expected
from .reader import Unreadable, body_on
from .rescue import follow_levels


def check(patient_toml: str, regimens: Path, protocol: str, phase: str, start: date, options: dict, orders: dict) -> list[str]:
    with localcontext(CONTEXT):
        try:
            return _check(patient_toml, Path(regimens), protocol, phase, start, options, orders)
        except Exception as exc:  # noqa: BLE001 - whatever stops the check refuses the sheet, never passes it
            # A value this reader cannot read: the engine read something the written grammar does not allow.
            what = f"{type(exc).__name__} {exc}" if not isinstance(exc, Unreadable) else str(exc)
            return [f"the second check cannot work the orders out from the files ({what})"]


def _check(patient_toml, regimens: Path, protocol: str, phase: str, start: date, options: dict, orders: dict) -> list[str]:
    body = body_on(patient_toml, start)
    mine = expected(body, regimens / protocol, phase, start, options, patient_toml)
    follow_levels(mine, body, patient_toml, regimens / protocol, phase, start, options)  # methotrexate levels: the rescue
    said = phase_differences(mine, orders) + dose_differences(mine, orders)
    infusion = mine.continuous
    if infusion is not None:
        from .bags import expected_bags  # only a phase with a continuous infusion has bags to check

        # The bags run at the first day's dose the sheet gives (a window may start after day 1).
        daily = min((g for g in mine.given.values() if (g.drug, g.route) == (infusion.drug, infusion.route)), key=lambda g: g.day).total
        stopped, restart = (datetime.fromisoformat(options[key]) if options.get(key) else None for key in ("stopped", "restart"))
        bags = expected_bags(regimens / "products", infusion.drug, daily, datetime.combine(start, mine.infusion_start), len(infusion.days),
                             int(options.get("bag_hours") or 24), mine.kg, mine.course_hours, stopped=stopped, restart=restart)
        said += bag_differences(bags, orders.get("bags", []))
    elif orders.get("bags"):
        said.append(f"bags: the engine plans {len(orders['bags'])}, the second check finds no continuous infusion")
    return said
