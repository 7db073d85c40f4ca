"""Recorded allergies against every drug a sheet orders (issue 12).

A recorded allergy reaches a drug by its generic name, its printed name, its
class, or any of its other names and brands (regimens/drugs.toml `names`):
"Oncaspar", "asparaginase" and "PEG-asparaginase" all reach pegaspargase.
Matching ignores case, punctuation and spacing, and looks at every run of
words in the entry, so "PEG-asparaginase (anaphylaxis 2026)" matches too. A
match is a hard stop (`refuse`) unless the pharmacist chose a substitution the
regimen data offers (`substitute`); an entry that matches no drug the tool
knows is a finding printed on every sheet (dosing.findings), never dropped.
"""

import re
from datetime import timedelta

import attrs

from dosing.body import age_in_months
from dosing.errors import InputError
from dosing.regimen import substitute as substitute_in, substitutions

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


def substitute(patient, protocol, phase, start, name: str | None):
    """(the phase, the Substitution) with the substitution the pharmacist chose given in place of the drug it replaces.

    None chosen: the phase as it is. Below the substitute's licensed age on its first day it is refused.
    """
    if name is None:
        return phase, None
    phase, substitution = substitute_in(protocol, phase, name)
    first = start + timedelta(days=min(d for o in substitution.orders for d in o.days) - 1)
    if age_in_months(patient.birth_date, first) < substitution.from_age_months.value:
        raise InputError("--substitute", f"{substitution.orders[0].drug.print_name} is licensed from "
                         f"{substitution.from_age_months.value} month(s) of age ({substitution.from_age_months.source}); "
                         f"the infant is younger on {first}", "the prescriber must choose another product outside the tool")
    return phase, substitution


def refuse(patient, protocol, phase) -> None:
    """A recorded allergy that names a drug this phase orders is a hard stop (issue 12)."""
    found = check(patient.allergies, {o.drug.name: o.drug for o in phase.orders}.values())
    if not found:
        return
    match = found[0]
    offered = [name for name, entry in substitutions(protocol).items() if entry[1].get("replaces") == match.drug.name]
    fix = "do not give it; if the allergy entry is wrong, correct the patient file"
    if offered:
        fix += f"; or, if the prescriber agrees, give {' or '.join(offered)} instead: --substitute {offered[0]}"
    name = match.drug.print_name
    how = "" if compact(match.term) in (compact(match.drug.name), compact(name)) else f" ('{match.term}' is {name})"
    raise InputError("patient.allergies", f"the recorded allergy '{match.allergy}' names {name}{how}, which {phase.title} orders", fix)
