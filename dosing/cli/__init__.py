"""The `dosing` command line.

Exit status (docs/interfaces.md): 0 success; 2 usage error; 3 input refused (a
hard stop), with the reason on standard error. Nothing the user can type
produces a traceback.

`arguments` says what each command takes; `commands` does each one.
"""

import gc
import sys

from dosing.cli.arguments import parser
from dosing.cli.commands import COMMANDS, EXIT_REFUSED


def main(argv=None) -> int:
    """Run the command `argv` asks for (default: this process's arguments); the exit status."""
    arguments = parser().parse_args(argv)
    try:
        return COMMANDS[arguments.command](arguments)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug, not bad input: still no traceback, and no sheet
        print(f"dosing: refused: internal error ({type(exc).__name__}: {exc}); no sheet was written. "
              "Please report this with the patient file.", file=sys.stderr)
        return EXIT_REFUSED
    finally:
        if argv is None and getattr(arguments, "format", None) in ("json", "fhir"):
            # This process (python -m dosing, the dosing script) has printed its orders and ends now, holding no
            # file or connection open. Frozen, its objects are not all walked once more by the garbage collection
            # the interpreter makes on the way out (about 40 ms of a JSON order's 350): the process frees them.
            gc.freeze()
