"""A nurse's administration form, read into the store's record_administration (given, or not given and why).

The form sends text; this reads the row number, the outcome and the time given
(the same 'YYYY-MM-DD HH:MM' the blinatumomab restart is written in, read by
dosing.requests.parse_moment) and passes the rest as typed: the store checks
the initials, the batch and the reason, and who may record.
"""

from dosing.errors import InputError
from dosing.requests import OptionError, parse_moment


def record(db, user, order_id: str, form: dict) -> int:
    """Record one administration from the page's form; the new record's id. InputError names the box and the fix."""
    from dosing.store import orders

    item = _whole(form.get("item", ""), "item", "record the administration from its own row of the record")
    outcome = form.get("outcome", "")
    if outcome not in ("given", "not_given"):
        raise InputError("outcome", f"{outcome!r} is neither given nor not given", "press 'Given' or 'Not given' on the row")
    corrects = _whole(form["corrects"], "corrects", "press 'Correct' on the row again") if form.get("corrects") else None
    given = outcome == "given"
    if given:
        given_at = _moment(form.get("given_at", ""))
        return orders.record_administration(db, user, order_id, item, given=True, given_at=given_at,
                                            given_by=_text(form, "given_by"), checked_by=_text(form, "checked_by"),
                                            batch=_text(form, "batch"), corrects=corrects)
    return orders.record_administration(db, user, order_id, item, given=False, not_given_reason=_text(form, "not_given_reason"),
                                        corrects=corrects)


def _whole(text: str, field: str, fix: str) -> int:
    if not text.strip().isdigit():
        raise InputError(field, f"{text!r} is not a row of the record", fix)
    return int(text)


def _moment(text: str):
    if not text.strip():
        raise InputError("given_at", "the time given is needed", "write when the dose was given, as YYYY-MM-DD HH:MM")
    try:
        return parse_moment(text)
    except OptionError as exc:
        raise InputError("given_at", f"time given {exc}") from None


def _text(form: dict, field: str) -> str | None:
    return " ".join(form.get(field, "").split()) or None
