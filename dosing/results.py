"""An infant's results as the rules read them: dated lab results, methotrexate levels, the genotype.

Data flow: the patient file's [[labs]] and [genotype] (read and checked in
dosing/patient/) become LabResult and Genotype on the Patient; the start
criteria, the methotrexate rescue, the maintenance titration and the organ
function rules ask this module for the result they need:

    latest(patient, "anc", on_or_before=start, within_days=7)  # newest count in the window
    levels(patient)                                            # methotrexate levels, by hour
    schwartz_egfr(creatinine, length, k)                       # bedside eGFR
    estimated_gfr(patient, creatinine, schwartz)               # the same, k chosen by age

Pure functions of their arguments; every value a pint quantity in the
project's registry (dosing/units.py), so a count is never compared with a
concentration.
"""

from datetime import date, datetime, time, timedelta

import attrs

from dosing.body import age_in_months
from dosing.units import Q

# The tests a [[labs]] entry may name, as the patient file writes them (docs/interfaces.md).
TESTS = ("anc", "platelets", "wbc", "hemoglobin", "creatinine", "bilirubin", "alt", "methotrexate",
         "asparaginase_activity")

# The CPIC phenotypes the [genotype] table may give (docs/interfaces.md); None is unknown.
PHENOTYPES = ("normal", "intermediate", "poor")

# Creatinine in µmol/L to mg/dL: 1 mg/dL = 10 mg/L ÷ 113.1 g/mol (the molar
# mass of creatinine, C4H7N3O, from the IUPAC standard atomic weights:
# 4 × 12.011 + 7 × 1.008 + 3 × 14.007 + 15.999 = 113.12) = 0.08842 mmol/L
# = 88.42 µmol/L. The conversion is chemistry, not protocol data; bedside
# Schwartz is defined on creatinine in mg/dL (docs/reference.md §12).
CREATININE_UMOL_PER_L_PER_MG_DL = 88.42
# Bilirubin likewise: 10 mg/L ÷ 584.66 g/mol (C33H36N4O6) = 17.1 µmol/L per mg/dL;
# the label's liver bands are written in mg/dL.
BILIRUBIN_UMOL_PER_L_PER_MG_DL = 17.1
UMOL_PER_L_PER_MG_DL = {"creatinine": CREATININE_UMOL_PER_L_PER_MG_DL, "bilirubin": BILIRUBIN_UMOL_PER_L_PER_MG_DL}

# The unit of an estimated GFR: mL/min per 1.73 m² of body surface (units.txt).
EGFR_UNIT = "milliliter / minute / standard_body_surface"


def _time_known(result: "LabResult") -> bool:
    return result.taken is not None and result.taken.time() != time(0, 0)


@attrs.frozen
class LabResult:
    """One [[labs]] entry: which test, its value with its unit, and when it was taken."""

    test: str  #: one of TESTS
    value: object  #: pint quantity in the unit the laboratory reported (units.LAB_UNITS)
    taken: datetime | None = None  #: date and time taken; None for a methotrexate level given by hours only
    hours_after_start: float | None = None  #: methotrexate level: hours after the start of the high-dose infusion
    entry: int = 0  #: the [[labs]] entry's number in the file, from 1 (0: not from a file)
    #: False when the file gave a date but no time (taken is then at 00:00)
    time_known: bool = attrs.field(default=attrs.Factory(_time_known, takes_self=True))

    @property
    def date(self) -> date | None:
        return self.taken.date() if self.taken is not None else None

    @property
    def field(self) -> str:
        """Where the result is in the patient file, for a message: labs[3]."""
        return f"labs[{self.entry}]"


@attrs.frozen
class Genotype:
    """The [genotype] table: thiopurine metaboliser phenotypes (CPIC); None is unknown."""

    tpmt: str | None = None  #: "normal", "intermediate", "poor" or None
    nudt15: str | None = None

    @property
    def known(self) -> bool:
        return self.tpmt is not None or self.nudt15 is not None


def latest(patient, test: str, on_or_before: date, within_days: int) -> LabResult | None:
    """The newest `test` result taken from `within_days` days before `on_or_before` up to that day (both included).

    A result dated on_or_before - within_days is inside the window; one a day
    earlier is not. Of two results taken at the same moment, the later entry
    in the file wins (a correction is written after what it corrects).
    Results known only by hours after an infusion (methotrexate) have no
    date and are never chosen here: see levels().
    """
    if test not in TESTS:
        raise ValueError(f"{test!r} is not a lab test ({', '.join(TESTS)})")
    earliest = on_or_before - timedelta(days=within_days)
    usable = [r for r in patient.labs
              if r.test == test and r.taken is not None and earliest <= r.taken.date() <= on_or_before]
    return max(usable, key=lambda r: (r.taken, r.entry), default=None)


def levels(patient) -> tuple[LabResult, ...]:
    """The methotrexate levels that give hours_after_start, in order of those hours (then file order).

    A methotrexate level given only by date and time cannot be placed on a
    rescue table (the infusion's start hour is not in the patient file), so
    it is not among them.
    """
    found = [r for r in patient.labs if r.test == "methotrexate" and r.hours_after_start is not None]
    return tuple(sorted(found, key=lambda r: (r.hours_after_start, r.entry)))


def mg_dl(test: str, value) -> float:
    """A creatinine or bilirubin in mg/dL, from mg/dL or µmol/L (÷ UMOL_PER_L_PER_MG_DL[test])."""
    if value.check("[substance] / [length] ** 3"):
        return value.m_as("umol/L") / UMOL_PER_L_PER_MG_DL[test]
    return value.m_as("mg/dL")  # pint raises DimensionalityError for anything not a mass concentration


def creatinine_mg_dl(creatinine) -> float:
    """A creatinine in mg/dL, from mg/dL or µmol/L (÷ CREATININE_UMOL_PER_L_PER_MG_DL)."""
    return mg_dl("creatinine", creatinine)


def schwartz_egfr(creatinine, length, k):
    """Bedside Schwartz eGFR = k × length (cm) ÷ creatinine (mg/dL), in mL/min/1.73 m² (docs/reference.md §12).

    `k` is the regimen's constant for the infant's age (results.toml [schwartz]),
    a plain number or a pint dimensionless quantity. E.g. 0.413 × 72 cm ÷ 0.3 mg/dL
    = 99.12 mL/min/1.73 m².
    """
    k = k.m_as("dimensionless") if hasattr(k, "m_as") else float(k)
    return Q(k * length.m_as("cm") / creatinine_mg_dl(creatinine), EGFR_UNIT)


@attrs.frozen
class Estimate:
    """A bedside Schwartz eGFR with what it was worked out from, to print beside the decision it informs."""

    egfr: object  #: pint quantity in EGFR_UNIT
    k: object  #: the regimen's Value (dosing/regimen/schwartz.py): k, its tag and source
    length: object  #: pint length, the measurement on or before the creatinine's date
    creatinine: LabResult

    @property
    def approximate(self) -> bool:
        """No validated k for the age (a placeholder, tag ?): the sheet prints the estimate as approximate."""
        return self.k.tag == "?"


def estimated_gfr(patient, creatinine: LabResult, schwartz) -> Estimate:
    """The eGFR from a creatinine result, with the length measured on or before its date and the k for
    the infant's completed months of age that day (`schwartz`: results.toml [schwartz], dosing/regimen/schwartz.py)."""
    day = creatinine.date
    k = schwartz.k_at(age_in_months(patient.birth_date, day))
    length = patient.measurement_on(day).length
    return Estimate(egfr=schwartz_egfr(creatinine.value, length, k.value), k=k, length=length, creatinine=creatinine)
