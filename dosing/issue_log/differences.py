"""What changed between two versions of an issued sheet, in words a pharmacist can check.

The last step of the data flow (issue) compares the new orders with the
version the log holds: store.py keeps the versions, this module says what
differs (the new version's `changes`), and `dosing verify` lists the doses
that differ from a recomputation.
"""

from dosing.formatting import number
from dosing.issue_log.hashes import sha256
from dosing.issue_log.store import Issue


def changes(previous: Issue, inputs: bytes, regimen_sha256: str, options: dict, orders: dict, names: dict | None = None) -> list[str]:
    """What differs from the previous version, in words a pharmacist can check: every line, never cut short.

    `names` maps a drug's generic name to the name the sheet prints (Tall Man:
    vinCRIStine, DAUNOrubicin), so the list reads as the sheet does.
    """
    found = []
    if sha256(inputs) != previous.inputs_sha256:
        found.append("the patient file changed")
    for key, label, unit in (("weight_kg", "weight", "kg"), ("length_cm", "length", "cm"), ("bsa_m2", "BSA", "m²")):
        if previous.orders.get(key) != orders.get(key):
            found.append(f"{label} {previous.orders.get(key)} {unit} -> {orders.get(key)} {unit}")
    if regimen_sha256 != previous.regimen_sha256:
        found.append("the regimen data changed")
    # An option a log written by an older dosing lacks reads as None there, as it does here when not given.
    changed = sorted(k for k in set(options) | set(previous.options) if options.get(k) != previous.options.get(k))
    if changed:
        found.append("options changed: " + ", ".join(f"{k} {previous.options.get(k)} -> {options.get(k)}" for k in changed))
    doses = dose_changes(previous.orders, orders, names or {})
    if doses:
        found.append("doses changed: " + "; ".join(doses))
    return found


def dose_changes(before: dict, after: dict, names: dict) -> list[str]:
    """Each dose as ordered (one dose × times a day, not the day's total) that differs, every one of them.

    Days with the same change are listed together ("days 1 to 7, 15") so the
    list stays readable without leaving anything out.
    """
    def doses(orders):
        found, seen = {}, {}
        for a in orders["administrations"]:
            key = (a["drug"], a["route"], a["day"])
            seen[key] = seen.get(key, 0) + 1  # the same drug twice on a day by one route stays two doses
            found[key + (seen[key],)] = _as_ordered(a)
        return found

    old, new = doses(before), doses(after)
    groups: dict[tuple, list[int]] = {}
    for key in sorted(set(old) | set(new), key=lambda k: (k[0], k[1], k[2], k[3])):
        if old.get(key) != new.get(key):
            groups.setdefault((key[0], key[1], old.get(key), new.get(key)), []).append(key[2])
    lines = []
    for (drug, route, was, now), days in groups.items():
        what = f"{names.get(drug, drug)} {route} {_days(days)}"
        if was is None:
            lines.append(f"{what} added: {now}")
        elif now is None:
            lines.append(f"{what} removed (was {was})")
        else:
            lines.append(f"{what} {was} -> {now}")
    return lines


def _as_ordered(administration: dict) -> str:
    """'6.6 mg', or '0.35 mg × 3 a day' for a divided dose (logs written before dose_each: the day's dose)."""
    each = administration.get("dose_each", administration["dose"])
    times = administration.get("times_per_day", 1)
    return f"{number(each)} {administration['unit']}" + (f" × {times} a day" if times > 1 else "")


def _days(days: list[int]) -> str:
    """'day 8', 'days 8, 15, 22', 'days 1 to 28, 30'."""
    runs = []
    for day in sorted(set(days)):
        if runs and day == runs[-1][1] + 1:
            runs[-1][1] = day
        else:
            runs.append([day, day])
    if len(runs) == 1 and runs[0][0] == runs[0][1]:
        return f"day {runs[0][0]}"
    return "days " + ", ".join(str(a) if a == b else f"{a} to {b}" for a, b in runs)
