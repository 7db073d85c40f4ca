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
    # JSON and FHIR orders, when this process (python -m dosing, the dosing script) is the command: the collector
    # is paused, as what the command makes is kept to the end (every patient's orders are printed last), so it
    # found next to nothing while walking every object again and again (40 patients: the same peak memory, a
    # quarter less CPU); on the way out the objects are frozen, so the interpreter's last collection skips them
    # too (about 40 ms): the process frees them as it ends. Such a process holds no file or connection open then.
    alone = argv is None and getattr(arguments, "format", None) in ("json", "fhir")
    if alone:
        gc.disable()
    try:
        return COMMANDS[arguments.command](arguments)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug, not bad input: still no traceback, and no sheet
        print(f"dosing: refused: internal error ({type(exc).__name__}: {exc}); no sheet was written. "
              "Please report this with the patient file.", file=sys.stderr)
        return EXIT_REFUSED
    finally:
        if alone:
            gc.freeze()
