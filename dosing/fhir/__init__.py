"""The orders, the regimen and the patient in HL7 FHIR R4 (issue 17), built and validated with fhir.resources' R4B models.

- codes.py: regimens/terminology.toml, the public codes (RxNorm, SNOMED CT, UCUM, LOINC, mCODE) with their sources
- bundle.py: a phase's orders out as a Bundle (Patient, Observations, CarePlan, MedicationRequests)
- patient_in.py: a Bundle's Patient and measurements in, as a patient file
- plan_definition.py: the regimen as a PlanDefinition

fhir.resources is imported only inside the functions that build a resource, so
the JSON, PDF and HTML paths never load it.
"""
