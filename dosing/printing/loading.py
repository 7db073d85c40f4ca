"""WeasyPrint imported by the printer as fast as it can be: the printer's first work, and a PDF command waits for it.

Two costs of `import weasyprint` find nothing here, and the printer skips them:

- Garbage collection. The import makes some 150 collections (about 50 ms, a
  tenth of the import) that free almost nothing. The collector is paused for
  the import, and what it made is then frozen: never walked again, here or in
  the layout workers forked from here (who also share those pages the longer).
- Looking for its libraries the long way. WeasyPrint tries several names for
  each of Pango, GObject, HarfBuzz and fontconfig; cffi hands every name that
  fails to load directly to `ctypes.util.find_library`, which on Linux runs
  `ldconfig -p` (and gcc, ld) in a subprocess each time: 24 calls, about
  0.2 s of the import's 0.6 s measured on this machine. On Linux
  find_library only ever answers a library's soname, which is then loaded by
  that name, and WeasyPrint's list holds each soname itself (libpango-1.0.so.0
  and the rest), loaded the same way; so the printer imports WeasyPrint with
  find_library answering "not found", and the very same library files are
  loaded straight from their sonames. Should a library's soname ever not be
  in WeasyPrint's list (a new major version), the import fails here and is
  made again the usual way. The printer has one thread while it imports, so
  nothing else sees the stand-in, and it is put back at once.
"""

import contextlib
import gc
import io
import sys


def import_weasyprint() -> None:
    gc.disable()
    try:
        try:
            with _libraries_by_soname():
                import weasyprint  # noqa: F401
        except OSError:  # a library not under a name WeasyPrint lists: found the long way, as anywhere else
            import weasyprint  # noqa: F401, F811
    finally:
        gc.freeze()
        gc.enable()


@contextlib.contextmanager
def _libraries_by_soname():
    if not sys.platform.startswith("linux"):
        yield
        return
    import ctypes.util

    looked_up = ctypes.util.find_library
    ctypes.util.find_library = _not_found
    try:
        # Should it fail, WeasyPrint prints a troubleshooting notice first: not on the command's standard output
        # (the files written), and not at all if the usual way then finds the library (it prints it again if not).
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        ctypes.util.find_library = looked_up


def _not_found(name):
    return None
