"""A task's log lines and the ``::{...}::`` lines among them (see the package README, "Outputs").

Every stdout *and stderr* line matching ``^::(\\{.*})::$`` is read with Jackson's non-strict mapper into
``{outputs, metrics, logs}``; a line Jackson refuses is lost whole; the outputs of all lines are merged
(K@58c1ca2d core/.../tasks/runners/PluginUtilsService.java:34-37,170-212, DefaultLogConsumer.java:16-24)."""
from __future__ import annotations

import re
from typing import Any

from .jackson import jackson_loads
from .pebble import JAVA_LINE_TERMINATORS as _LT

_NEWLINE_PATTERN = re.compile(r"([^\r\n]+)[\r\n]+")
_OUTPUT_LINE = re.compile(r"::(\{[^" + _LT + r"]*\})::(?:\r\n|[" + _LT + r"])?\Z")
_LOG_LEVELS = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR"}


def _java_split_lines(text: str) -> list[str]:
    parts = text.split("\n")  # String.split drops trailing empty strings
    while parts and parts[-1] == "":
        parts.pop()
    return parts


def log_lines(stream: str) -> list[str]:
    """The lines the Docker runner hands to the log consumer (Docker.java:149,433-470)."""
    lines: list[str] = []
    last = 0
    for match in _NEWLINE_PATTERN.finditer(stream):
        lines += _java_split_lines(match.group(0))
        last = match.end()
    if last < len(stream):
        lines += _java_split_lines(stream[last:])
    return lines


def parse_output_line(line: str) -> dict[str, Any] | None:
    """The outputs a log line announces, or None: not an outputs line, or refused by Jackson
    (then Kestra logs "Invalid outputs" and the whole line is lost; PluginUtilsService.java:170-212)."""
    match = _OUTPUT_LINE.match(line)
    if not match:
        return None
    try:
        message = jackson_loads(match.group(1))
    except ValueError:
        return None
    if not isinstance(message, dict):
        return None
    outputs = message.get("outputs")
    if outputs is not None and not isinstance(outputs, dict):
        return None
    metrics = message.get("metrics")
    if metrics is not None and not (isinstance(metrics, list) and all(
            isinstance(m, dict) and m.get("type") in ("counter", "timer") and "name" in m for m in metrics)):
        return None
    logs = message.get("logs")
    if logs is not None and not (isinstance(logs, list) and all(
            isinstance(entry, dict) and entry.get("level") in _LOG_LEVELS for entry in logs)):
        return None
    return outputs or {}


def read_task_log(stdout: str, stderr: str) -> tuple[dict[str, Any], int, int]:
    """The outputs a task's lines announce (merged), and how many lines it wrote on stdout and on stderr."""
    outputs: dict[str, Any] = {}
    counts = {False: 0, True: 0}
    for is_err, stream in ((False, stdout), (True, stderr)):
        for line in log_lines(stream):  # DefaultLogConsumer: both streams are parsed and counted
            outputs.update(parse_output_line(line) or {})
            counts[is_err] += 1
    return outputs, counts[False], counts[True]
