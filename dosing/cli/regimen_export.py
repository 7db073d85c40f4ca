"""`dosing regimen export --format fhir`: the regimen data as a FHIR PlanDefinition, for systems that import protocols.

A centre's own regimens folder (--regimens) is exported the same way as the
one shipped; --phase keeps only the phases named, in the protocol's order.
"""

import json
import sys
from pathlib import Path

EXIT_OK, EXIT_REFUSED = 0, 3


def add_regimen_command(commands) -> None:
    """`dosing regimen export [--format fhir] [--regimens DIR] [--phase NAME]`."""
    regimen = commands.add_parser("regimen", help="the regimen data itself: export it for other systems",
                                  description="The regimen data (regimens/) as other systems read it.")
    actions = regimen.add_subparsers(dest="regimen_command", required=True, metavar="ACTION")
    export = actions.add_parser("export", help="print the regimen as a FHIR R4 PlanDefinition (JSON)",
                                description="Print the protocol as one FHIR R4 PlanDefinition (JSON, validated with the "
                                            "fhir.resources R4B models): one action per phase, and in it one action per "
                                            "order with its dose rule, drug code and days. It is a draft until the centre "
                                            "has verified the regimen ([verification] in protocol.toml).")
    export.add_argument("--format", choices=("fhir",), default="fhir", help="fhir: a FHIR R4 PlanDefinition (the default)")
    export.add_argument("--regimens", type=Path, metavar="DIR", help="a centre's own regimens/ folder (default: the one shipped)")
    export.add_argument("--phase", action="append", metavar="NAME",
                        help="export only this phase (repeat for more; default: every phase of the protocol)")


def regimen(arguments) -> int:
    from dosing.errors import InputError, RegimenError
    from dosing.fhir.plan_definition import plan_definition
    from dosing.regimen import load_protocol

    try:
        found = plan_definition(load_protocol(arguments.regimens), arguments.phase)
    except (InputError, RegimenError) as exc:
        print(f"dosing: refused: regimen data: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    print(json.dumps(found, indent=2, ensure_ascii=False))
    return EXIT_OK
