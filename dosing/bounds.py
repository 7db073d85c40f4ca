"""Plausibility limits, each with the reason for its value.

Values outside these are not a small or large infant but a typing or unit
slip (grams written as kg, inches as cm), so they stop the sheet. The range
covers every child the protocol can treat: diagnosed in the first year of
life, on treatment until about 104 weeks after diagnosis, so under 3 years.
"""

# The smallest infants who survive birth weigh about 0.25-0.3 kg; a lighter
# figure for a child on chemotherapy is a slip such as 300 g typed as 0.03 kg.
WEIGHT_MIN_KG = 0.3
# The WHO 99.9th weight centile at 3 years is about 20 kg (boys); 30 kg leaves
# room for a very heavy toddler while catching pounds typed as kilograms.
WEIGHT_MAX_KG = 30.0
# A viable newborn at 22-23 weeks' gestation is about 28-30 cm long; 25 cm is
# below any child who can be treated.
LENGTH_MIN_CM = 25.0
# The WHO 99.9th length centile at 3 years is about 107 cm; 120 cm leaves
# margin and still catches a length typed in mm or inches confused with cm.
LENGTH_MAX_CM = 120.0

# ALL-Baby-2021 enrols infants diagnosed from 0 to 365 days of life (seed
# registry text, tag S).
AGE_AT_DIAGNOSIS_MAX_DAYS = 365

# A measurement older than this at the phase start is stale (docs/safety.md).
STALE_MEASUREMENT_DAYS = 7
# The warning for a rounded dose far from the calculated one (docs/safety.md, 5 %)
# is a clinical rule a centre reviews: it is regimen data, protocol.toml [warnings].

# The oldest a child on ALL-Baby-2021 can be: diagnosed by 365 days of life,
# treated until 104 weeks (728 days) after diagnosis (docs/reference.md: maintenance
# runs until 104 weeks after diagnosis), so 365 + 728 = 1093 days. A
# measurement or an earlier dose dated later than this cannot belong to the
# child's treatment: the birth date or the other date has a slip in its year
# (born "1900", measured 2026). No margin is added: the end of maintenance is
# counted from diagnosis, so a delay in treatment does not move it.
PROTOCOL_AGE_MAX_DAYS = AGE_AT_DIAGNOSIS_MAX_DAYS + 104 * 7

# Weight and length far above the WHO Child Growth Standard for the age and
# sex (dosing/growth.py) are hard stops, at the limits past which WHO's own
# software (WHO Anthro) flags a measurement as biologically implausible:
# weight-for-age z above +5 (about 1 child in 3.5 million), length-for-age z
# above +6 (about 1 in 1 billion). Such a figure is a slip ("62 lb" typed
# where 6.2 kg was meant, pounds written as kg, weight and length swapped),
# and a dose built on it is several times too large: 62 lb (28.1 kg) for a
# 4-month-old boy 62 cm long (z +21) gives a BSA of 0.70 m², where his 6.4 kg
# gives 0.33 m². The 0.1st/99.9th centile warning (z beyond ±3.09) stays for
# the merely unusual infant in between.
# There is no such stop below the standard: an infant born very early is far
# below a standard of infants born at term when measured at the age from
# birth (600 g at birth at 24 weeks' gestation is z -6.9; WHO's lower flag is
# -6), and such infants are treated, so a low weight or length is a warning
# and the absolute WEIGHT_MIN_KG / LENGTH_MIN_CM above are the hard stop.
WEIGHT_FOR_AGE_Z_MAX = 5
LENGTH_FOR_AGE_Z_MAX = 6

# The largest value a [[labs]] result of each test can have, in each kind of
# unit the test may be written in ((number, pint unit, as printed), ...),
# and why. A result above it is a slip, most often a unit: a count per µL
# (1200) written as 10^9/L, nmol/L written as µmol/L, µmol/L as mg/dL.
# Every result must also be zero or more: no test measures below nothing.
# The conversions between µmol/L and mg/dL use the molar masses (creatinine
# 113.1 g/mol: 88.42 µmol/L per mg/dL, dosing/results.py; bilirubin
# 584.7 g/mol: 17.1 µmol/L per mg/dL).
LAB_MAX = {
    # 100 × 10^9/L: neutrophils are a part of the white count, and even in
    # a leukaemoid reaction rarely pass 50; 100 catches a count per µL (1200)
    # or per mm³ typed where 10^9/L was meant.
    "anc": ((100, "billion_cells_per_liter", "× 10^9/L"),
            "a neutrophil count is a part of the white count, and even a leukaemoid reaction stays well below it; "
            "a larger figure is a count per µL written as 10^9/L"),
    # Infant KMT2A-rearranged ALL presents with hyperleukocytosis, counts of
    # several hundred × 10^9/L and rarely above 1000; 2000 leaves room for
    # them and still catches a count per µL (5400) typed as 10^9/L.
    "wbc": ((2000, "billion_cells_per_liter", "× 10^9/L"),
            "infant leukaemia can present with several hundred × 10^9/L, rarely above 1000; a larger figure is a "
            "count per µL written as 10^9/L"),
    # Reactive thrombocytosis in infants reaches about 1000-1500 × 10^9/L;
    # 3000 leaves margin and catches a count per µL (150000).
    "platelets": ((3000, "billion_cells_per_liter", "× 10^9/L"),
                  "reactive thrombocytosis in infants stays below it; a larger figure is a count per µL written as 10^9/L"),
    # A newborn's polycythaemia reaches about 220-250 g/L; 300 g/L (30 g/dL)
    # catches g/L written as g/dL (95 g/dL).
    "hemoglobin": ((300, "g/L", "g/L"), (30, "g/dL", "g/dL"),
                   "no infant's haemoglobin reaches it, polycythaemia included; a larger figure is g/L written as g/dL"),
    # Severe kidney failure in an infant stays far below 2000 µmol/L
    # (22.6 mg/dL); a larger figure is µmol/L written as mg/dL.
    "creatinine": ((2000, "umol/L", "umol/L"), (22.6, "mg/dL", "mg/dL"),
                   "no kidney failure in an infant reaches it; a larger figure is µmol/L written as mg/dL"),
    # Severe neonatal jaundice and cholestasis stay below about 600 µmol/L;
    # 1000 µmol/L (58.5 mg/dL) catches µmol/L written as mg/dL.
    "bilirubin": ((1000, "umol/L", "umol/L"), (58.5, "mg/dL", "mg/dL"),
                  "no jaundice reaches it; a larger figure is µmol/L written as mg/dL"),
    # Acute liver necrosis gives ALTs of some thousands of U/L; 20000 catches
    # U/mL or a misplaced decimal point.
    "alt": ((20000, "enzyme_unit/L", "U/L"),
            "acute liver necrosis gives some thousands of U/L; a larger figure is a slip of the unit or the decimal point"),
    # High-dose methotrexate (5 g/m² over 24 hours) gives levels of tens to
    # low hundreds of µmol/L at the end of the infusion, even when clearance
    # is delayed; 1000 µmol/L catches nmol/L written as µmol/L.
    "methotrexate": ((1000, "umol/L", "umol/L"),
                     "a 24-hour infusion of 5 g/m² gives tens to low hundreds of µmol/L, even with delayed clearance; "
                     "a larger figure is nmol/L written as µmol/L"),
    # Asparaginase activity after a dose is a few U/mL at most; 50 U/mL
    # (50000 U/L) catches U/L written as U/mL.
    "asparaginase_activity": ((50000, "enzyme_unit/L", "U/L"), (50, "enzyme_unit/mL", "U/mL"),
                              "activity after a dose is a few U/mL at most; a larger figure is U/L written as U/mL"),
}

# A methotrexate level's hours after the start of the high-dose infusion: from
# the start (0) to 10 days (240 hours), past which a level no longer guides
# the rescue of that infusion; a larger figure is days or minutes typed as hours.
MTX_HOURS_MAX = 240
