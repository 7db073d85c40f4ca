"""The ISMP writing rules (docs/safety.md), as checks on text read from a PDF."""

import re

RULES = [
    # (what is wrong, pattern that finds it)
    ("trailing zero", re.compile(r"(?<![\d,])\d+\.\d*0 (mg|mcg|units|mL|kg|m²)\b")),
    ("no leading zero", re.compile(r"(?<![\d\w.])\.\d")),
    ("no thousands separator", re.compile(r"(?<![\d.,])\d{4,} (mg|mcg|units|mL)\b")),
    ("banned abbreviation", re.compile(r"\b(U|IU|cc|qd|qod|QD|QOD)\b|µg")),
    ("IT as a route", re.compile(r"\bIT\b")),
    ("name not in Tall Man letters", re.compile(r"vincristine|daunorubicin|doxorubicin|vinblastine|idarubicin", re.IGNORECASE)),
]
TALL_MAN = ("vinCRIStine", "DAUNOrubicin", "DOXOrubicin", "vinBLAStine", "IDArubicin")
MINIBAG_LABEL = "FOR INTRAVENOUS USE ONLY – FATAL IF GIVEN BY OTHER ROUTES"


def problems(text: str) -> list[str]:
    """Every rule the text breaks, with the words that break it."""
    found = []
    for rule, pattern in RULES:
        for match in pattern.finditer(text):
            if rule == "name not in Tall Man letters" and match.group(0) in TALL_MAN:
                continue
            found.append(f"{rule}: {text[max(0, match.start() - 30):match.end() + 30]!r}")
    return found


def vinca_and_intrathecal_apart(page: str) -> bool:
    """No page carries both an IV vinca alkaloid order and an INTRATHECAL order."""
    vinca = re.search(r"vinCRIStine|vindesine|vinBLAStine", page)
    spinal = "INTRATHECAL" in page
    return not (vinca and spinal)
