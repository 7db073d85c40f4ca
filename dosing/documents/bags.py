"""The blinatumomab bags as text: the nurse's infusion schedule and the pharmacy preparation worksheet.

Both documents print the bags dosing.bags planned; nothing here works a
volume out again: the exact drug volume and the one measured to the syringe
step are the Bag's own, so the worksheet's working is the arithmetic that
made the bag.
"""

from dosing.documents.phrases import dose_text
from dosing.formatting import amount, day, number, significant
from dosing.units import Q


def context(orders) -> dict:
    """The bags, the product and the premedication for templates/infusion.html and templates/preparation.html."""
    product = orders.product
    premedication = next((a for a in orders.administrations if a.drug == "dexamethasone" and a.route == "IV"), None)
    course = sum(b.hours for b in orders.bags)  # the course the bags cover: 672 hours, or what a resumed one has left
    return {
        "bags": [_bag(bag, product) for bag in orders.bags],
        "bag_hours": number(orders.bags[0].hours),
        "daily": amount(orders.bags[0].daily * Q(1, "day"), "mcg"),
        "course_hours": number(course),
        "course_days": days_and_hours(course),
        "product": {
            "name": product.name,
            "vial": amount(product.vial, "mcg"),
            "water": f"{number(product.water.m_as('mL'))} mL",
            "concentration": f"{number(product.concentration.m_as('mcg/mL'))} mcg/mL",
            "per_vial": f"{number(round((product.vial / product.concentration).m_as('mL'), 2))} mL",
            "filter": product.filter,
            "syringe_step": f"{number(product.syringe_step.m_as('mL'))} mL",
            "preservative_free_below": f"{number(product.preservative_free_below.m_as('kg'))} kg",
            "source": str(product.path.name),
        },
        "premedication": dose_text(premedication) if premedication else None,
    }


def days_and_hours(hours: float) -> str:
    """How long the bags run, as a nurse counts it: 672 -> "28 days"; a course resumed with 570 hours
    to go -> "23 days and 18 hours"; 18.5 -> "18.5 hours" (the schedule once said "28 days" whatever was left)."""
    days, rest = divmod(hours, 24)
    said = [f"{number(days)} day{'' if days == 1 else 's'}"] if days else []
    if rest or not days:
        said.append(f"{number(rest)} hour{'' if rest == 1 else 's'}")
    return " and ".join(said)


def strip(orders):
    """The course as a strip, bag by bag (dosing.pictures.infusion_strip), for templates/infusion.html only."""
    from dosing.pictures import infusion_strip  # here, not above: only a sheet with bags draws it

    return infusion_strip.strip(orders)


def _bag(bag, product) -> dict:
    settings = bag.settings
    return {
        "number": bag.number,
        "start": f"{day(bag.start.date())} {bag.start:%H:%M}",
        "end": f"{day(bag.end.date())} {bag.end:%H:%M}",
        "hours": number(bag.hours),
        "dose": amount(bag.dose, "mcg"),
        "rate": f"{number(bag.rate.m_as('mL/hour'))} mL/h",
        "volume": f"{number(round(bag.volume.m_as('mL'), 2))} mL",
        "vials": bag.vials,
        "diluent": settings.diluent,
        "saline": f"{number(settings.saline.m_as('mL'))} mL",
        "stabiliser": f"{number(settings.stabiliser.m_as('mL'))} mL",
        "drug_volume": f"{number(bag.drug_volume.m_as('mL'))} mL",
        "total": f"{number(round(bag.total_volume.m_as('mL'), 2))} mL",
        "overfill": f"{number(round(bag.overfill.m_as('mL'), 2))} mL",
        "delivered": f"{significant(bag.delivered.m_as('mcg'))} mcg",
        "preservative": settings.preservative,
        # The drug volume v = D × (S + I) ÷ (V × C − D) (dosing.bags), with this bag's figures.
        "working": (
            f"{amount(bag.dose, 'mcg')} × ({number(settings.saline.m_as('mL'))} mL + {number(settings.stabiliser.m_as('mL'))} mL) ÷ "
            f"({number(round(bag.volume.m_as('mL'), 2))} mL × {number(product.concentration.m_as('mcg/mL'))} mcg/mL − {amount(bag.dose, 'mcg')}) "
            f"= {significant(bag.exact_drug_volume.m_as('mL'))} mL, measured as {number(bag.drug_volume.m_as('mL'))} mL"
        ),
    }
