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
