"""The printer imports WeasyPrint the fast way (dosing.printing.loading): the same libraries, the same PDF,
none of find_library's subprocesses, and the usual way still when a library is not under a name WeasyPrint lists.

Each case runs in a fresh interpreter: an import can be made only once per process."""

import json
import subprocess
import sys
import textwrap

import pytest

from conftest import ROOT

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the fast way is taken on Linux only")

REPORT = """
import ctypes.util, gc, hashlib, json, sys
import weasyprint
libraries = sorted({line.split()[-1] for line in open("/proc/self/maps")
                    if any(name in line for name in ("libpango", "libgobject", "libharfbuzz", "libfontconfig"))})
pdf = weasyprint.HTML(string="<p>one <b>line</b>, dexAMETHasone 1.2 mg</p>").write_pdf()
print(json.dumps({"libraries": libraries, "pdf": hashlib.sha256(pdf).hexdigest(), "looked_up": looked_up,
                  "restored": ctypes.util.find_library is counting, "collecting": gc.isenabled(),
                  "frozen": gc.get_freeze_count()}))
"""

COUNT = """
import ctypes.util
looked_up, real = [], ctypes.util.find_library
def counting(name):
    looked_up.append(name)
    return real(name)
ctypes.util.find_library = counting
"""


def _run(code: str) -> dict:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1, done.stdout  # nothing else on standard output: no troubleshooting notice
    return json.loads(lines[0])


def test_the_printers_import_loads_the_same_libraries_and_writes_the_same_pdf_without_find_library():
    usual = _run(COUNT + REPORT)
    fast = _run(COUNT + "from dosing.printing.loading import import_weasyprint\nimport_weasyprint()\n" + REPORT)
    assert len(usual["looked_up"]) > 4  # the usual way asks ctypes for several names (a subprocess each)
    assert fast["looked_up"] == [] and fast["restored"]
    assert fast["libraries"] == usual["libraries"] and len(fast["libraries"]) >= 4
    assert fast["pdf"] == usual["pdf"]
    assert fast["collecting"] and fast["frozen"] > usual["frozen"]  # the collector is back on, the import frozen


def test_a_library_only_find_library_can_name_is_still_found_the_usual_way():
    # As if a library's soname were not among the names WeasyPrint lists: loading it straight by that name
    # fails, so only find_library can find it. The import is made again the usual way, and says nothing.
    refuse_sonames = """
    import cffi.api
    real_load = cffi.api._load_backend_lib
    def load(backend, name, flags):
        if isinstance(name, str) and name.startswith("libpango-1.0.so") and ctypes.util.find_library is not counting:
            raise OSError(f"{name}: not under this name")
        return real_load(backend, name, flags)
    cffi.api._load_backend_lib = load
    """
    fast = _run(COUNT + textwrap.dedent(refuse_sonames)
                + "from dosing.printing.loading import import_weasyprint\nimport_weasyprint()\n" + REPORT)
    assert "pango-1.0" in fast["looked_up"] and fast["restored"] and fast["collecting"]
    assert any("libpango-1.0.so" in path for path in fast["libraries"])
