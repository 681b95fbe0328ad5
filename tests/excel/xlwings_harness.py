"""Run xlwings' own Windows UDF machinery on a machine without Excel or pywin32.

This is a faithful stand-in, **not Excel**. What is real and what is stood in:

* Real (the installed xlwings, version pinned by :data:`XLWINGS_VERSION`): the decorators
  ``xlwings.udfs.xlfunc`` / ``xlarg`` / ``xlret`` that build the ``__xlfunc__`` metadata on
  Windows; ``generate_vba_wrapper``, which writes the VBA module *Import Functions* puts into
  the workbook; ``call_udf``, the function Excel's COM server calls for every UDF evaluation;
  the conversion pipeline (``xlwings.conversion``); and the Windows engine's value cleaning
  (``xlwings._xlwindows.Engine.clean_value_data`` / ``prepare_xl_data_element``).
* Stood in: pywin32 (``pythoncom``, ``pywintypes``, ``win32api``, ``win32com.client``, ...) by
  empty stub modules so those xlwings modules import on Linux; ``ctypes.windll``/``oledll``/
  ``PyDLL`` only while ``xlwings._xlwindows`` is imported; ``xlwings.com_server`` (only its
  event loop is looked up, for async UDFs, which auditkit does not use); and Excel itself:
  :func:`excel_value` turns a Python 2-D list into what COM hands over for a range (a tuple of
  row tuples, numbers as floats, dates as ``pywintypes.TimeType`` in UTC, a single cell as a
  scalar), and an omitted optional argument is the ``DISP_E_PARAMNOTFOUND`` integer the VBA
  wrapper passes. A range argument reaches ``call_udf`` as its value, not as a COM Range; the
  pipeline stages after the read are the same for both.

Not covered: Excel's own marshalling and recalculation, the COM server, the add-in's VBA.

Use :func:`windows_xlwings` (a context manager, see ``conftest.py``) and, inside it,
:func:`import_udf_module`, :func:`call_like_excel`, :func:`vba_wrapper`.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import datetime as dt
import importlib
import io
import re
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import xlwings

#: The xlwings version these tests were written against (pyproject pins it: the template embeds
#: this version's VBA, and the harness relies on its internals).
XLWINGS_VERSION = "0.37.8"
#: What the VBA wrapper passes for an omitted optional argument (DISP_E_PARAMNOTFOUND).
MISSING = -2147352572
#: COM error values Excel passes for error cells (#N/A, #VALUE!, ...), see xlwings._xlwindows.
NA_ERROR = -2146826246

_STUBS = (
    "pythoncom",
    "pywintypes",
    "win32api",
    "win32con",
    "win32gui",
    "win32process",
    "win32timezone",
    "win32event",
    "win32com",
    "win32com.client",
    "xlwings.com_server",
)


class TimeType(dt.datetime):
    """Stand-in for ``pywintypes.TimeType``: COM hands dates over as this (a datetime)."""


def _stub_modules() -> dict[str, types.ModuleType]:
    class ComError(Exception):
        pass

    class _UTC:
        @staticmethod
        def utc() -> dt.tzinfo:
            return dt.UTC

    client = types.ModuleType("win32com.client")
    for name in ("Dispatch", "DispatchEx", "CDispatch", "CoClassBaseClass", "DispatchBaseClass"):
        setattr(client, name, type(name, (), {}))
    win32com = types.ModuleType("win32com")
    win32com.client = client
    modules = {
        "pythoncom": types.SimpleNamespace(
            CoInitialize=lambda: None, IID_IDispatch=None, __file__="pythoncom.pyd"
        ),
        "pywintypes": types.SimpleNamespace(
            com_error=ComError, TimeType=TimeType, IID=lambda text: text
        ),
        "win32timezone": types.SimpleNamespace(TimeZoneInfo=_UTC),
        "win32com": win32com,
        "win32com.client": client,
        # call_udf imports the COM server's event loop; only async UDFs use it.
        "xlwings.com_server": types.SimpleNamespace(loop=None),
    }
    out = {}
    for name in _STUBS:
        module = types.ModuleType(name)
        source = modules.get(name)
        if isinstance(source, types.ModuleType):
            module = source
        elif source is not None:
            module.__dict__.update(vars(source))
        out[name] = module
    return out


@contextlib.contextmanager
def windows_xlwings() -> Iterator[types.ModuleType]:
    """Import xlwings' Windows UDF modules with pywin32 stubbed; yields ``xlwings.udfs``.

    Registers the Windows engine as ``excel`` (what UDF conversion looks up) and undoes
    everything on exit, so other tests see the ordinary Linux xlwings.
    """
    if xlwings.__version__ != XLWINGS_VERSION:
        raise RuntimeError(
            f"these tests rely on xlwings {XLWINGS_VERSION} internals, found {xlwings.__version__}"
        )
    saved = {
        name: sys.modules.get(name) for name in (*_STUBS, "xlwings.udfs", "xlwings._xlwindows")
    }
    sys.modules.update(_stub_modules())
    added_engine = None
    try:
        with mock.patch.multiple(
            ctypes,
            windll=mock.MagicMock(),
            oledll=mock.MagicMock(),
            PyDLL=mock.MagicMock(),
            create=True,
        ):
            windows = importlib.import_module("xlwings._xlwindows")
        # At exit it would look for Excel processes; nothing to clean up here.
        atexit.unregister(windows.cleanup)
        udfs = importlib.import_module("xlwings.udfs")
        if "excel" not in xlwings.engines.engines_by_name:
            added_engine = xlwings.main.Engine(impl=windows.engine)
            xlwings.engines.add(added_engine)
        yield udfs
    finally:
        if added_engine is not None:
            xlwings.engines.engines.remove(added_engine)
            del xlwings.engines.engines_by_name["excel"]
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
        for name in ("udfs", "_xlwindows", "com_server"):
            if name in vars(xlwings) and f"xlwings.{name}" not in sys.modules:
                delattr(xlwings, name)


def import_udf_module(udfs: types.ModuleType, name: str) -> types.ModuleType:
    """Import a UDF module with ``xw.func``/``arg``/``ret``/``sub`` bound to xlwings' Windows
    decorators (as ``import xlwings`` does on Windows), so its ``__xlfunc__`` metadata is real.

    The module is imported fresh and then taken out of ``sys.modules`` again, so a normal
    ``import`` elsewhere still gets the Linux (no-op) decorators.
    """
    names = {"func": udfs.xlfunc, "arg": udfs.xlarg, "ret": udfs.xlret, "sub": udfs.xlsub}
    previous = sys.modules.pop(name, None)
    try:
        with mock.patch.multiple(xlwings, **names):
            module = importlib.import_module(name)
    finally:
        sys.modules.pop(name, None)
        if previous is not None:
            sys.modules[name] = previous
    udfs.udf_modules[name] = {"filename": module.__file__, "filetime": None, "module": module}
    return module


def excel_value(rows: Any) -> Any:
    """What COM hands over for a range holding ``rows`` (a list of rows, or one value)."""

    def cell(value: Any) -> Any:
        if isinstance(value, bool) or value is None or isinstance(value, str):
            return value
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, dt.datetime | dt.date):
            return TimeType(value.year, value.month, value.day, tzinfo=dt.UTC)
        raise TypeError(f"a cell cannot hold {value!r}")

    if not isinstance(rows, list | tuple):
        return cell(rows)
    grid = tuple(tuple(cell(v) for v in row) for row in rows)
    if len(grid) == 1 and len(grid[0]) == 1:
        return grid[0][0]
    return grid


def call_like_excel(udfs: types.ModuleType, module: types.ModuleType, func: str, *args: Any) -> Any:
    """Evaluate a UDF through ``xlwings.udfs.call_udf`` as Excel's COM server does.

    Each argument is a list of rows (a range), a single value, or :data:`MISSING`; it is
    handed over as COM would (:func:`excel_value`). Returns what Excel would receive.
    """
    raw = tuple(a if isinstance(a, int) and a == MISSING else excel_value(a) for a in args)
    return udfs.call_udf(module.__name__, func, raw, None, None)


def vba_wrapper(udfs: types.ModuleType, module: types.ModuleType, book_name: str) -> str:
    """The VBA module *Import Functions* would put into ``book_name`` for ``module``."""
    out = io.StringIO()
    udfs.generate_vba_wrapper(module.__name__, module, out, types.SimpleNamespace(Name=book_name))
    return out.getvalue()


def accepted_option_names() -> set[str]:
    """Converter option names the installed xlwings reads, found in its own source.

    ``doc`` and ``vba`` are the argument settings ``xlarg`` handles itself.
    """
    root = Path(xlwings.__file__).parent
    sources = [*sorted((root / "conversion").glob("*.py")), root / "main.py", root / "udfs.py"]
    pattern = re.compile(r"""options(?:\.get\(|\[)\s*["']([a-z_]+)["']""")
    found = set()
    for path in sources:
        found.update(pattern.findall(path.read_text(encoding="utf-8")))
    return found | {"doc", "vba"}
