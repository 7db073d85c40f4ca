"""The project's one pint registry: how it is built, once, from our own definitions, without NumPy.

dosing.units re-exports `registry` and reads measurements with it; this module
only makes it (pint imported without its optional array support, the
definitions loaded, one registry per process whatever the threads).
"""

import sys
import threading
from pathlib import Path

# The registry's only definitions: the part of pint's defaults the project uses, then our own units.
PINT_DEFINITIONS = Path(__file__).with_name("pint_defaults.txt")
DEFINITIONS = Path(__file__).with_name("units.txt")

# What pint imports only to support arrays, which no dose is: NumPy (about 80 ms
# of every start, most of pint's own cost) and SciPy (which loads NumPy).
PINT_OPTIONAL = ("numpy", "scipy")


class _Unoffered:
    """An import finder that tells pint, in the importing thread only, that NumPy and SciPy are absent.

    pint.compat tries `import numpy` and `import scipy` once, when pint is first
    imported, and works without them: NumPy is an optional dependency of pint,
    which its own test suite runs without. A finder asked first by Python's
    import system is the supported way to make an import fail (nothing is
    deleted, patched or left behind); it refuses only in the thread importing
    pint, only while pint is imported, and is removed at once, so a later
    `import numpy` (rcpchgrowth, SciPy) works as usual. When NumPy is already
    loaded the finder is never asked and pint uses NumPy: the results are the
    same byte for byte (tests/test_imports.py runs every golden case both ways).
    """

    def __init__(self):
        self.thread = threading.get_ident()

    def find_spec(self, name, path=None, target=None):
        if threading.get_ident() == self.thread and name.partition(".")[0] in PINT_OPTIONAL:
            raise ModuleNotFoundError(f"{name} is not offered to pint (dosing.unit_registry)", name=name)
        return None


def _import_pint():
    # Always `import pint`, never sys.modules["pint"]: a thread arriving while another is
    # still importing pint then waits for it, as Python's import lock makes it.
    finder = None if "pint" in sys.modules else _Unoffered()
    if finder is not None:
        sys.meta_path.insert(0, finder)
    try:
        import pint
    finally:
        if finder is not None:
            sys.meta_path.remove(finder)
    return pint


_BUILDING = threading.Lock()
_BUILT = []  # the registry, once built


def registry():
    """The one registry, built on first use (not at import: start-up is kept light).

    Built once even when two threads ask first at the same moment (a server's
    requests): quantities of two registries never mix (pint refuses them).

    From pint_defaults.txt and units.txt alone, not pint's whole default file: parsing its
    ~900 definitions cost a process about 0.2 s, and pint's cache of them is written to
    ~/.cache/pint, outside the output folder. Ours parse in about 10 ms, and nothing is
    written. A unit in neither file is undefined (pint.UndefinedUnitError).
    """
    if not _BUILT:
        with _BUILDING:
            if not _BUILT:
                _BUILT.append(_build())
    return _BUILT[0]


def _build():
    pint = _import_pint()
    ureg = pint.UnitRegistry(None, on_redefinition="raise")  # None: no default file, no cache folder
    for definitions in (PINT_DEFINITIONS, DEFINITIONS):
        ureg.load_definitions(definitions)
    return ureg
