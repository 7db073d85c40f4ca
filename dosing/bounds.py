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

# A measurement older than this at the phase start is stale (safety.md).
STALE_MEASUREMENT_DAYS = 7
# A rounded dose further than this from the calculated dose is flagged
# (safety.md), as a fraction of the calculated dose.
ROUNDING_WARNING_FRACTION = 0.05
