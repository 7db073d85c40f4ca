"""Kept until every document words the findings itself: the warnings as today's sentences.

The checks are dosing.findings (run once, in dosing.pipeline); their English is
dosing.documents.wording. Remove this module when nothing imports it.
"""


def warnings(orders, administrations=None) -> list[str]:
    """The warnings for the phase, or only for some of its administrations (one document's)."""
    from dosing.documents.wording import for_administrations  # the documents import this shim: no import at load time

    return for_administrations(orders, administrations)
