"""The UDF declarations as xlwings builds them on Windows (real decorators, pywin32 stubbed).

What Excel itself would do with them (registration, the function wizard) cannot run here; what
xlwings derives from them - the ``__xlfunc__`` metadata and the VBA module *Import Functions*
writes into the workbook - is produced by xlwings' own code and checked.
"""

from __future__ import annotations

import inspect
import re
import sys
import tomllib
from pathlib import Path

import pytest
import xlwings
import xlwings_harness as harness

from auditkit.excel import udfs as plain_udfs

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
SNAPSHOT = HERE / "snapshots" / "xlwings_udfs.bas"

#: Words VBA reserves (statements, types, operators): an argument may not be named so.
VBA_RESERVED = {
    "and", "as", "boolean", "byref", "byte", "byval", "call", "case", "const", "currency",
    "date", "debug", "declare", "dim", "do", "double", "each", "else", "elseif", "empty", "end",
    "enum", "eqv", "erase", "error", "event", "exit", "false", "for", "friend", "function", "get",
    "global", "gosub", "goto", "if", "imp", "implements", "in", "input", "integer", "is", "let",
    "lib", "like", "long", "loop", "lset", "me", "mod", "name", "new", "next", "not", "nothing",
    "null", "object", "on", "open", "option", "optional", "or", "paramarray", "preserve",
    "print", "private", "property", "public", "raiseevent", "redim", "rem", "resume", "return",
    "rset", "select", "set", "single", "static", "step", "stop", "string", "sub", "then", "to",
    "true", "type", "typeof", "until", "variant", "wend", "while", "with", "withevents", "xor",
}  # fmt: skip

#: Arguments that take a range: xlwings must hand them over as a list of rows (ndim=2).
RANGE_ARGS = {
    "AUDIT_TPI_MIX": {"codes", "providers"},
    "AUDIT_CLEAN_RATE": {"statuses", "frequency", "providers"},
    "AUDIT_DENIAL_RATE": {"statuses", "charges", "providers"},
    "AUDIT_CPM_CODES": {"minutes"},
    "AUDIT_CARC": {"code"},
    "AUDIT_FAMILY": {"cpt"},
    "AUDIT_CHECK_LINE": {"cpt", "modifiers", "diagnoses", "units", "payer", "headers", "values"},
    "AUDIT_FINDINGS": {"table"},
    "AUDIT_DEADLINE": {"payer", "dos", "remit_date", "kind"},
}


def _functions(module):
    return {
        name: value
        for name, value in vars(module).items()
        if callable(value) and hasattr(value, "__xlfunc__")
    }


def option_problems(meta: dict) -> list[str]:
    """Converter options xlwings would silently ignore (misspelt) or cannot convert with."""
    from xlwings import conversion

    accepted = harness.accepted_option_names()
    problems = []
    for where, options in [("return", meta["ret"]["options"])] + [
        (arg["name"], arg["options"]) for arg in meta["args"]
    ]:
        for key in options:
            if key not in accepted:
                problems.append(f"{meta['name']} {where}: unknown option {key!r}")
        convert = options.get("convert")
        if convert is not None and convert not in conversion.accessors:
            problems.append(f"{meta['name']} {where}: no converter for {convert!r}")
    return problems


def test_xlwings_version_is_the_pinned_one():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pins = [d for d in pyproject["project"]["dependencies"] if d.startswith("xlwings")]
    assert pins == [f"xlwings=={harness.XLWINGS_VERSION}"]
    assert xlwings.__version__ == harness.XLWINGS_VERSION


def test_every_function_is_declared_and_listed(udf_module):
    declared = _functions(udf_module)
    listed = [f.__name__ for f in udf_module.FUNCTIONS]
    assert sorted(declared) == sorted(listed) == sorted(RANGE_ARGS)
    assert len(set(listed)) == len(listed)


@pytest.mark.skipif(sys.platform.startswith("win"), reason="xw.func is the real one on Windows")
def test_linux_import_has_no_metadata():
    # The ordinary import (what the library and the other tests use) gets xlwings' no-op
    # decorators on Linux: the harness must not leak into it.
    assert not hasattr(plain_udfs.AUDIT_TPI_MIX, "__xlfunc__")


@pytest.mark.parametrize("name", sorted(RANGE_ARGS))
def test_metadata(udf_module, name):
    func = getattr(udf_module, name)
    meta = func.__xlfunc__
    assert meta["name"] == name and name.startswith("AUDIT_")
    # @xw.func outermost: an @xw.arg above it would have reset the category to "xlwings".
    assert meta["category"] == udf_module.CATEGORY == "auditkit"
    assert meta["volatile"] is False  # recalculated only when an input changes
    assert meta["call_in_wizard"] is True
    assert meta["async_mode"] is None
    assert meta["sub"] is False
    description = meta["ret"]["doc"]
    assert description == func.__doc__ and 20 < len(description) <= 255
    assert "\n" not in description.strip()
    parameters = list(inspect.signature(func).parameters.values())
    assert [a["name"] for a in meta["args"]] == [p.name for p in parameters]
    for arg, parameter in zip(meta["args"], parameters, strict=True):
        assert arg["doc"] != f"Positional argument {arg['pos'] + 1}", arg["name"]
        assert 10 < len(arg["doc"]) <= 255
        assert arg["name"].lower() not in VBA_RESERVED
        assert ("optional" in arg) == (parameter.default is not inspect.Parameter.empty)
        if "optional" in arg:
            assert arg["optional"] is None
            assert arg["doc"].startswith("Optional")
        ndim = arg["options"].get("ndim")
        assert (ndim == 2) == (arg["name"] in RANGE_ARGS[name]), arg["name"]
    assert option_problems(meta) == []


def test_option_check_catches_misspelt_options(windows_udfs):
    # The check above must be able to fail: xlwings itself accepts a misspelt option silently.
    def sample(x):
        """A sample."""
        return x

    decorated = windows_udfs.xlfunc(category="auditkit")(
        windows_udfs.xlarg("x", idnex=False)(sample)
    )
    assert option_problems(decorated.__xlfunc__) == ["sample x: unknown option 'idnex'"]


def test_decorator_order_matters(windows_udfs):
    # Why the metadata test checks the category: @xw.arg applied after @xw.func resets it.
    def sample(x):
        """A sample."""
        return x

    wrong = windows_udfs.xlarg("x", ndim=2)(windows_udfs.xlfunc(category="auditkit")(sample))
    assert wrong.__xlfunc__["category"] == "xlwings"


def test_vba_wrapper_snapshot(windows_udfs, udf_module):
    vba = harness.vba_wrapper(windows_udfs, udf_module, "monthly_audit.xlsm")
    # Reviewed by hand: one Function per UDF calling XLPy.CallUDF with the module name, the
    # optional arguments marked Optional, no Application.Volatile, errors returned as text.
    assert SNAPSHOT.read_text() == vba
    functions = re.findall(r"^Function (\w+)\((.*)\)$", vba, re.MULTILINE)
    assert sorted(f for f, _ in functions) == sorted(RANGE_ARGS)
    for name, args in functions:
        meta = getattr(udf_module, name).__xlfunc__
        expected = [("Optional " if "optional" in a else "") + a["name"] for a in meta["args"]]
        assert args.split(", ") == expected
    assert "Application.Volatile" not in vba
    assert vba.count('XLPy.CallUDF("auditkit.excel.udfs"') == 2 * len(functions)
    assert "ActiveWorkbook" not in vba  # a workbook's own functions use ThisWorkbook
