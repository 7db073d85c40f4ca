"""HL7 FHIR R4 (issue 17): what this tool sends and receives, built and validated with fhir.resources' R4B models.

fhir.resources is imported only inside the functions that need it, so the JSON
and PDF paths never load it.

- patient_in: a Bundle with a Patient and weight and length Observations -> a patient file (TOML);
- plan_definition: the regimen as a PlanDefinition.
"""
