"""`dosing import-fhir BUNDLE.json`: a patient file (TOML) from a FHIR R4 Bundle (dosing.fhir.patient_in).

It prints the file, or writes it with --out, never over an existing file. What
the Bundle does not say (KMT2A, CNS status, a diagnosis date no Condition gives,
no allergy recorded at all) is given by the options, or refused (exit 3, one line).
"""

import argparse
import sys
from pathlib import Path

EXIT_OK, EXIT_REFUSED = 0, 3
# A Bundle holding one infant's admission is a few kilobytes; a hospital system's
# export with every Observation of a long stay can reach a few megabytes. Far past
# that, it is not a patient's Bundle, and reading it whole would only stall.
MAX_BUNDLE_BYTES = 16 * 1024 * 1024


def _date(text: str):
    from dosing.requests import OptionError, parse_date

    try:
        return parse_date(text)
    except OptionError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_import_command(commands) -> None:
    """`dosing import-fhir BUNDLE.json [--out FILE] [--diagnosis-date D] [--kmt2a ...] [--cns ...] [--no-known-allergies]`."""
    command = commands.add_parser(
        "import-fhir", help="write a patient file from a FHIR Bundle (Patient, weight and length Observations)",
        description="Read a FHIR R4 Bundle (JSON) holding the infant's Patient, weight and length Observations (the LOINC "
                    "codes and UCUM units of regimens/fhir-in.toml), and optionally a Condition (the "
                    "diagnosis date) and AllergyIntolerance resources; print the patient file (TOML) dosing reads. "
                    "What FHIR does not give comes from the options below, or the import is refused.")
    command.add_argument("bundle", type=Path, metavar="BUNDLE.json", help="the FHIR Bundle, JSON")
    command.add_argument("--out", type=Path, metavar="FILE", help="write the patient file here (never over an existing file)")
    command.add_argument("--diagnosis-date", type=_date, metavar="DATE",
                         help="date of diagnosis, YYYY-MM-DD: needed when no Condition gives it or several give different "
                              "ones; given, it is the one written")
    command.add_argument("--kmt2a", metavar="STATUS", help="KMT2A: rearranged or germline (the Bundle carries no agreed code for it)")
    command.add_argument("--cns", metavar="STATUS", help="CNS status at diagnosis: CNS1, CNS2 or CNS3")
    command.add_argument("--no-known-allergies", action="store_true",
                         help="the infant has no known allergies, when the Bundle holds no AllergyIntolerance")


def import_fhir(arguments) -> int:
    from dosing.errors import InputError, RegimenError
    from dosing.fhir.patient_in import patient_file

    defaults = {"diagnosis_date": arguments.diagnosis_date, "kmt2a": arguments.kmt2a, "cns": arguments.cns,
                "allergies": [] if arguments.no_known_allergies else None}
    try:
        text = patient_file(read_bundle(arguments.bundle), defaults, name=arguments.bundle.name)
        if arguments.out is not None:
            try:
                with open(arguments.out, "x", encoding="utf-8") as written:
                    written.write(text)
            except FileExistsError:
                raise InputError(str(arguments.out), "exists already; a patient file is never overwritten",
                                 "choose another --out, or remove the old file first") from None
            except OSError as exc:
                raise InputError(str(arguments.out), f"cannot be written ({exc.strerror})", "") from None
            print(arguments.out)
        else:
            sys.stdout.write(text)
    except InputError as exc:
        print(f"dosing: refused: {arguments.bundle}: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except RegimenError as exc:
        print(f"dosing: refused: regimen data: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    if "allergies = [" not in text:
        print(f"note: {arguments.bundle}: the Bundle records no allergies: the patient file leaves them unknown, and "
              "dosing refuses it until allergies are written (or import again with --no-known-allergies)", file=sys.stderr)
    return EXIT_OK


def read_bundle(path: Path) -> dict:
    """The JSON at `path`; refused, naming the file, when it cannot be read as JSON."""
    from dosing.errors import InputError
    from dosing.fhir.patient_in import parse_bundle

    try:
        if path.stat().st_size > MAX_BUNDLE_BYTES:
            raise InputError(str(path), f"is larger than {MAX_BUNDLE_BYTES // (1024 * 1024)} MB, which no patient's Bundle is",
                             "export only this infant's Patient and Observations")
        return parse_bundle(path.read_bytes())
    except FileNotFoundError:
        raise InputError(str(path), "no such file", "check the path to the Bundle") from None
    except IsADirectoryError:
        raise InputError(str(path), "is a folder", "give the Bundle's JSON file") from None
    except OSError as exc:
        raise InputError(str(path), f"cannot be read ({exc.strerror})", "") from None

