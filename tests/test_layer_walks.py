"""Two walks through the layers, traced call by call on real commands (a real kernel for the run):
a ``-p`` parameter from the command line to the kernel, and a notebook parameter to the emitted
Kestra input. Each layer handles the value once, on the way down: it is given a type in one place,
the core's type table, and no layer parses it again or hands it back up.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from conftest import Repo
from test_layering import layer_of

MARK = 7321  # a value nothing else in the run holds
NAME = "walk_marker"  # a parameter name nothing else in the export holds


@dataclasses.dataclass(frozen=True)
class Call:
    module: str
    function: str

    @property
    def layer(self) -> str | None:
        return layer_of(self.module)


def _holds(value: Any, wanted: Callable[[Any], bool], depth: int = 0) -> bool:
    """Whether ``value`` carries the traced value, looking into containers and dataclasses."""
    if depth > 4 or isinstance(value, type):
        return False
    if wanted(value):
        return True
    if isinstance(value, dict):
        return any(_holds(k, wanted, depth + 1) or _holds(v, wanted, depth + 1) for k, v in list(value.items())[:50])
    if isinstance(value, list | tuple):
        return any(_holds(v, wanted, depth + 1) for v in value[:50])
    if isinstance(value, argparse.Namespace):
        return _holds(vars(value), wanted, depth + 1)
    if dataclasses.is_dataclass(value):
        return any(_holds(getattr(value, f.name, None), wanted, depth + 1) for f in dataclasses.fields(value))
    return False


@contextmanager
def traced(wanted: Callable[[Any], bool]) -> Iterator[list[Call]]:
    """Every call of a ``kernel_ext`` function (in any thread) given an argument that carries the value."""
    calls: list[Call] = []

    def profile(frame: Any, event: str, arg: Any) -> None:
        module = frame.f_globals.get("__name__", "")
        if event != "call" or not module.startswith("kernel_ext."):
            return
        code = frame.f_code
        names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
        if any(_holds(frame.f_locals.get(n), wanted) for n in names):
            calls.append(Call(module, code.co_name))

    sys.setprofile(profile)
    threading.setprofile(profile)
    try:
        yield calls
    finally:
        sys.setprofile(None)
        threading.setprofile(None)


def layers_passed(calls: list[Call]) -> list[str]:
    """The layers outside the core in the order the value reaches them, each stay counted once."""
    path: list[str] = []
    for call in calls:
        if call.layer not in (None, "core") and (not path or path[-1] != call.layer):
            path.append(call.layer)
    return path


def _is_mark(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return value == MARK if isinstance(value, int) else isinstance(value, str) and str(MARK) in value


@pytest.mark.slow
def test_a_run_parameter_goes_down_from_the_command_line_to_the_kernel_once(repo: Repo) -> None:
    repo.nb("walk.ipynb", params="top_n: int = 5\n", body="assert type(top_n) is int\nprint(top_n * 2)\n")
    with traced(_is_mark) as calls:
        result = repo.cli("run", "notebooks/walk.ipynb", "-p", f"top_n={MARK}")
    assert result.code == 0, result.out + result.err  # the kernel got an int: its assertion held
    kernel = next(i for i, c in enumerate(calls) if c.module == "kernel_ext.adapters.runner")
    down = calls[: kernel + 1]
    assert layers_passed(down) == ["cli", "commands", "services", "adapters"], down
    typed = [c for c in down if c.module == "kernel_ext.core.input_types"]
    assert len(typed) == 1, f"the text {MARK} is given its type once, by the type table: {typed}"
    assert {c.layer for c in down if c.module.startswith("kernel_ext.core")} == {"core"}


def _is_name(value: Any) -> bool:
    return isinstance(value, str) and NAME in value


def test_a_notebook_parameter_becomes_one_emitted_input_through_the_core_once(repo: Repo) -> None:
    repo.nb("walk.ipynb", params=f"{NAME} = 2.5  # traced through the layers\n")
    with traced(_is_name) as calls:
        result = repo.cli("export", "notebooks/walk.ipynb")
    assert result.code == 0, result.out + result.err
    assert f"- id: {NAME}\n  type: FLOAT" in (repo.root / "_flows" / "walk.yml").read_text()
    written = next(i for i, c in enumerate(calls) if c.function == "atomic_write")
    path = calls[: written + 1]
    # read by an adapter, handed by a service to the core, written back by an adapter
    assert layers_passed(path) == ["adapters", "services", "adapters"], path
    where = {c.function: i for i, c in enumerate(path)}
    handed = next(i for i, c in enumerate(path) if c.layer == "services")
    assert handed < where["parse_parameters"] < where["_input"] < where["render_flow"] < written
    counts = {name: sum(c.function == name for c in path) for name in ("parse_parameters", "_input", "render_flow")}
    assert counts == {"parse_parameters": 1, "_input": 1, "render_flow": 1}, counts
