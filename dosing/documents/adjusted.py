"""The English of what the infant's results did to the doses (dosing.adjustments; the findings in dosing.findings).

dosing.documents.wording words every finding; these four are the results' own:
genotype unknown, a maintenance hold, counts missing, a kidney rule still to set.
"""

from dosing.adjustments import count
from dosing.formatting import number


def _genotype_unknown(finding) -> str:
    facts = finding.facts
    genes = " and ".join(facts.genes)
    return (f"TPMT/NUDT15 genotype unknown ({genes} not given in the patient file's [genotype]): "
            f"{' and '.join(facts.drugs)} at the usual dose. CPIC (docs/reference.md §12) reduces it for intermediate and "
            "poor metabolisers: record the phenotypes, or confirm with the prescriber that the dose stands.")


def _window(decided) -> str:
    return f"within {decided.within_days} days before {decided.first:%d %b %Y}"


def _titration_hold(finding) -> str:
    decided = finding.facts
    titrated = decided.titrated
    floor = titrated.rule.neutrophil_floor
    placeholder = " (a placeholder the centre sets: DRAFT)" if floor.tag == "?" else ""
    return (f"HOLD: {' and '.join(titrated.subjects)} are not ordered on this sheet: neutrophils "
            f"{number(count(titrated.anc))} × 10⁹/L on {titrated.anc.taken:%d %b %Y} ({titrated.anc.field}), below the neutrophil floor "
            f"of {number(titrated.rule.floor)} × 10⁹/L{placeholder}; docs/reference.md §12. Recheck the counts before restarting.")


def _titration_counts_missing(finding) -> str:
    decided = finding.facts
    titrated = decided.titrated
    if titrated.wbc is None:
        return (f"No white count {_window(decided)}: {' and '.join(titrated.subjects)} at 100 % of the protocol dose, not titrated. "
                "Record the counts ([[labs]] wbc and anc) and reissue the sheet.")
    return (f"No neutrophil count {_window(decided)}: whether to hold {' and '.join(titrated.subjects)} below the neutrophil floor "
            "could not be checked. Record it ([[labs]] anc) and reissue the sheet.")


def _organ_rule_not_set(finding) -> str:
    unset = finding.facts
    why = f" ({unset.note})" if unset.note else ""
    return (f"{unset.subject}: {unset.result.test} {number(round(unset.level, 2))} mg/dL on {unset.result.taken:%d %b %Y} "
            f"({unset.result.field}); no dose rule by kidney function is set in the data{why}, docs/reference.md §12: "
            "the prescriber decides the dose; the sheet is DRAFT until the centre sets the rule.")


ADJUSTED = {
    "genotype unknown": _genotype_unknown,
    "titration hold": _titration_hold,
    "titration counts missing": _titration_counts_missing,
    "organ rule not set": _organ_rule_not_set,
}
