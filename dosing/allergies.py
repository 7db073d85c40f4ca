"""Recorded allergies against every drug a sheet orders (issue 12).

A recorded allergy reaches a drug by its generic name, its printed name, its
class, or any of its other names and brands (regimens/drugs.toml `names`):
"Oncaspar", "asparaginase" and "PEG-asparaginase" all reach pegaspargase.
Matching ignores case, punctuation and spacing, and looks at every run of
words in the entry, so "PEG-asparaginase (anaphylaxis 2026)" matches too. A
match is a finding the engine turns into a hard stop; an entry that matches
no drug the tool knows is printed on every sheet, never dropped.
"""

import re

import attrs

# Entries are short ("PEG-asparaginase (anaphylaxis)"); a run of more words than
# the longest name a drug has is never needed.
LONGEST_NAME_WORDS = 6


@attrs.frozen
class Match:
    allergy: str  #: the entry as recorded in the patient file
    drug: object  #: regimen.Drug
    term: str  #: the drug's name, brand or class the entry matched


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^0-9a-z]+", text.casefold()) if w]


def compact(text: str) -> str:
    """A name without case, spaces or punctuation: 'PEG-asparaginase' -> 'pegasparaginase'."""
    return "".join(_words(text))


def _terms(drug) -> dict[str, str]:
    """Every name of a drug, compacted -> as written."""
    written = (drug.name.replace("_", " "), drug.print_name, drug.drug_class, *drug.names)
    return {compact(term): term for term in written if compact(term)}


def matches(allergy: str, drug) -> str | None:
    """The name of `drug` that the recorded allergy names, or None."""
    terms = _terms(drug)
    words = _words(allergy)
    for length in range(min(LONGEST_NAME_WORDS, len(words)), 0, -1):  # the longest name first: the most specific
        for start in range(len(words) - length + 1):
            term = terms.get("".join(words[start:start + length]))
            if term is not None:
                return term
    return None


def check(allergies, drugs) -> list[Match]:
    """Each recorded allergy that reaches one of `drugs` (the drugs a sheet orders)."""
    return [Match(allergy, drug, term) for allergy in allergies for drug in drugs if (term := matches(allergy, drug))]


def unmatched(allergies, known_drugs) -> list[str]:
    """Entries that name no drug the tool knows: printed on every sheet for a person to check."""
    return [a for a in allergies if not any(matches(a, drug) for drug in known_drugs)]
