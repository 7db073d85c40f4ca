"""The audit trail: one row per step anyone takes (models.Event), added in the same transaction as the step.

Times are the server's local clock, to the second, as the issue log and the
sheets print them.
"""

import json
from datetime import datetime

from dosing.store.models import Event


def now() -> datetime:
    return datetime.now().replace(microsecond=0)


def record(session, user_name: str, role: str, action: str, order_id: str | None = None, reason: str | None = None,
           detail: dict | None = None, at: datetime | None = None) -> Event:
    """Add an event to the trail (inside the caller's transaction, so a step and its record stand or fall together)."""
    event = Event(at=at or now(), user_name=user_name, role=role, action=action, order_id=order_id, reason=reason,
                  detail=json.dumps(detail or {}, sort_keys=True, default=str))
    session.add(event)
    return event


def as_dict(event: Event) -> dict:
    """An event as the API and the page show it: who, what, when, why."""
    return {"id": event.id, "at": event.at.isoformat(timespec="seconds"), "user": event.user_name, "role": event.role,
            "action": event.action, "order": event.order_id, "reason": event.reason, "detail": json.loads(event.detail or "{}")}
