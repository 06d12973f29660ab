"""Kestra's output protocol: a stdout line ``::{"outputs": {...}}::`` (what ``Kestra.outputs()`` and
``kernel_ext.output()`` print, and Kestra parses into ``outputs.<task>.vars``). nbops reads the same
lines back exactly as strictly as Kestra, so an output Kestra would lose is lost locally too, with a
warning saying why.

How Kestra reads them (K = kestra-io/kestra@58c1ca2d):

- The task's stdout is cut into lines at every run of ``\\r``/``\\n`` (the Docker task runner's
  ``NEWLINE_PATTERN`` ``([^\\r\\n]+)[\\r\\n]+``, K script/.../runner/docker/Docker.java:149; the
  Process runner's ``BufferedReader.readLine`` gives the same non-empty lines).
- A line is an outputs line only if it matches ``^::(\\{.*})::$`` as a whole (Java regex: ``.``
  stops at line terminators, ``$`` allows one at the very end; no trimming), K core/.../models/
  tasks/runners/PluginUtilsService.java:36 and ``parseOut`` (:170), called for every line by
  ``DefaultLogConsumer.accept``.
- The captured text is read by Jackson into ``BashCommand {outputs: Map, metrics: List, logs:
  List}`` (``JacksonMapper.ofJson(false)``: unknown keys ignored, ``NaN``/``Infinity`` refused,
  duplicate keys: the last wins, text after the first JSON value ignored). On any error the
  whole line is dropped with a warning in the task's log (``logger.warn("Invalid outputs ...")``).
- Later lines win on equal names (``outputs.putAll``), and the outputs are stored through Jackson,
  which keeps no null map entry (:func:`~kernel_ext.core.java_values.jackson_value`).
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .java_values import jackson_value

_LINE_BREAKS = re.compile(r"[\r\n]+")
# Java's "." matches anything but \n \r \u0085 \u2028 \u2029; its "$" also matches before a final one
_LINE = re.compile("::(\\{[^\n\r\u0085\u2028\u2029]*\\})::[\u0085\u2028\u2029]?\\Z")
_SHOWN = 80  # characters of a dropped line quoted in its warning


@dataclass(frozen=True)
class ReadOutputs:
    """The outputs Kestra would keep from a task's stdout, and why any line or value was lost."""

    outputs: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


def _refuse_constant(token: str) -> Any:
    raise ValueError(f"{token} is not a JSON number")


def _jackson_read(text: str) -> Any:
    """The first JSON value of ``text`` as Jackson's default reader takes it (the rest ignored)."""
    value, _ = json.JSONDecoder(parse_constant=_refuse_constant).raw_decode(text)
    return value


def _command_problem(message: Any) -> str | None:
    """Why Jackson could not bind ``message`` to Kestra's ``BashCommand``, or None."""
    outputs, metrics, logs = (message.get(key) for key in ("outputs", "metrics", "logs"))
    if outputs is not None and not isinstance(outputs, dict):
        return '"outputs" is not an object'
    for key, entries in (("metrics", metrics), ("logs", logs)):
        if entries is not None and not (isinstance(entries, list) and
                                        all(e is None or isinstance(e, dict) for e in entries)):
            return f'"{key}" is not a list of objects'
    if any(isinstance(m, dict) and not isinstance(m.get("type"), str) for m in metrics or ()):
        return "a metric has no type"
    return None


def read_outputs(text: str) -> ReadOutputs:
    """The outputs announced in stdout ``text``, read line by line as Kestra reads them."""
    found: dict[str, Any] = {}
    warnings: list[str] = []
    for line in _LINE_BREAKS.split(text):
        match = _LINE.match(line)
        if not match:
            continue
        try:
            message = _jackson_read(match.group(1))
            problem = _command_problem(message)
        except ValueError as exc:
            problem = str(exc).split(":")[0]
        if problem is not None:
            shown = line if len(line) <= _SHOWN else line[: _SHOWN - 1] + "…"
            warnings.append(f"an outputs line Kestra cannot read ({problem}) was dropped, with all its outputs: "
                            f"{shown}")
            continue
        found.update(message.get("outputs") or {})
    warnings += [f"output {name!r} is null: Kestra does not keep it" for name, value in found.items()
                 if value is None]
    return ReadOutputs(jackson_value(found), tuple(warnings))


def stdout_of(cells: Iterable[dict[str, Any]]) -> str:
    """All stdout stream text of executed notebook cells (nbformat dicts), in order: what papermill's
    ``--stdout-file`` writes to the task's stdout."""
    chunks = []
    for cell in cells:
        for output in cell.get("outputs", ()) if cell.get("cell_type") == "code" else ():
            if output.get("output_type") == "stream" and output.get("name") == "stdout":
                text = output.get("text", "")
                chunks.append("".join(text) if isinstance(text, list) else str(text))
    return "".join(chunks)
