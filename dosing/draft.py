"""Whether a sheet is a DRAFT: one rule for every document and the JSON orders.

A sheet is a DRAFT when something printed on it rests on a placeholder (tag ?,
nothing published was found, docs/reference.md): a dose, a start criterion the
centre has not set, or doses held below a neutrophil floor the centre has not
set. It reads the computed orders and their findings (dosing.findings) only.
"""


def is_draft(orders) -> bool:
    """Whether the sheet is a DRAFT: a dose, a start criterion or a held dose rests on a placeholder (?).

    One rule for every document and the JSON orders: nothing a placeholder decided (a dose, a criterion
    the centre has not set, doses held below a neutrophil floor the centre has not set) is printed clean.
    """
    if any(value.tag == "?" for a in orders.administrations for value in a.values):
        return True
    if any(f.code == "start criteria" and any(c.criterion.placeholder for c in f.facts.checked) for f in orders.findings):
        return True
    return held_on_placeholder(orders)


def held_on_placeholder(orders) -> bool:
    """Doses held below a neutrophil floor (or by a hold rule) the centre has not set: the order sheet is a DRAFT."""
    return any(f.code == "titration hold" and "?" in (f.facts.titrated.rule.hold.tag, f.facts.titrated.rule.neutrophil_floor.tag)
               for f in orders.findings)
