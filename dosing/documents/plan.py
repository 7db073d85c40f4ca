"""`dosing plan --format html/pdf`: one page with the plan as a timeline and its table.

Not an order sheet: it orders nothing, so it has no version and no issue log
entry; it is written into --out like the sheets, never over a file already
there (dosing.output.write_new), named `<id>_plan_<today>.html` or `.pdf`.
"""

from datetime import date, datetime

from dosing.documents import Document


def plan_document(plan, patient, protocol, today: date, produced: datetime | None = None) -> Document:
    """The plan page's Document (template plan.html): the timeline drawn here, the words as `dosing plan` prints them."""
    from dosing import __version__
    from dosing.pictures.plan import awaited_date, timeline

    produced = produced or datetime.now()
    awaited = awaited_date(plan)
    return Document("plan", "Treatment plan (estimated dates)", "plan.html", {
        "title": "Treatment plan (estimated dates)",
        "patient": {"name": patient.name, "id": patient.id, "birth_date": patient.birth_date.isoformat(),
                    "diagnosis_date": patient.diagnosis_date.isoformat(), "sex": patient.sex},
        "protocol": {"name": protocol.name, "version": protocol.version, "registry": protocol.registry},
        "plan": plan,
        "awaited_date": awaited.isoformat() if awaited else None,
        "picture": timeline(plan, protocol, today),
        "today": today.isoformat(),
        "produced": f"{produced:%d %b %Y %H:%M}",
        "version": __version__,
        "tall_man": {},  # the plan names phases, not drugs to give; its words stay as the JSON's
    })


def file_name(patient_id: str, today: date, extension: str) -> str:
    from dosing.output.names import safe_id

    return f"{safe_id(patient_id)}_plan_{today.isoformat()}.{extension}"
