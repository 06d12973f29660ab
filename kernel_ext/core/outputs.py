"""Kestra's output protocol: a stdout line ``::{"outputs": {...}}::`` (what ``Kestra.outputs()``
prints and Kestra parses into ``outputs.<task>.vars``). nbops reads the same lines back."""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

_LINE = re.compile(r"^::(\{.*\})::\s*$")


def outputs_from_text(text: str) -> dict[str, Any]:
    """The outputs announced in ``text``; later lines win on equal names; other lines are ignored."""
    found: dict[str, Any] = {}
    for line in text.splitlines():
        match = _LINE.match(line.strip())
        if not match:
            continue
        try:
            message = json.loads(match.group(1))
        except ValueError:
            continue
        if isinstance(message, dict) and isinstance(message.get("outputs"), dict):
            found.update(message["outputs"])
    return found


def stdout_of(cells: Iterable[dict[str, Any]]) -> str:
    """All stdout stream text of executed notebook cells (nbformat dicts), in order."""
    chunks = []
    for cell in cells:
        for output in cell.get("outputs", ()) if cell.get("cell_type") == "code" else ():
            if output.get("output_type") == "stream" and output.get("name") == "stdout":
                text = output.get("text", "")
                chunks.append("".join(text) if isinstance(text, list) else str(text))
    return "".join(chunks)
