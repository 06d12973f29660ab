"""Parameter grids for ``nbops batch``: a list of parameter sets, or values to combine.

YAML or JSON: either a list of mappings (each one run), or a mapping of name → list of values
(every combination, in a stable order: the last name varies fastest), or a mapping with both
``grid`` (to combine) and ``runs`` (listed) entries. CSV: one run per row, the header names the
parameters; its values are text, coerced like ``-p`` values.
"""
from __future__ import annotations

import csv
import io
import itertools
from typing import Any

from ..errors import Problem
from .param_values import TextValue
from .yamlsafe import YamlProblem, load_yaml

MAX_RUNS = 100_000


def parse_grid(text: str, file_name: str) -> tuple[list[dict[str, Any]], list[Problem]]:
    """(parameter sets, problems); CSV values are :class:`TextValue`."""
    if file_name.lower().endswith(".csv"):
        return _csv(text)
    try:
        data = load_yaml(text).data  # JSON is YAML too
    except YamlProblem as exc:
        return [], [exc.problem]
    return _structured(data)


def _csv(text: str) -> tuple[list[dict[str, Any]], list[Problem]]:
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or not any(h.strip() for h in rows[0]):
        return [], [Problem("the CSV grid has no header row naming the parameters", line=1)]
    names = [h.strip() for h in rows[0]]
    problems = [Problem(f"row has {len(r)} values for {len(names)} columns", line=i + 1)
                for i, r in enumerate(rows[1:], 1) if r and len(r) != len(names)]
    runs = [{n: TextValue(v) for n, v in zip(names, r, strict=True)} for r in rows[1:] if r and len(r) == len(names)]
    return runs, problems


def _structured(data: Any) -> tuple[list[dict[str, Any]], list[Problem]]:
    if isinstance(data, list):
        bad = [i for i, r in enumerate(data) if not isinstance(r, dict)]
        return ([r for r in data if isinstance(r, dict)],
                [Problem("each run is a mapping of parameter names to values", f"[{i}]") for i in bad])
    if not isinstance(data, dict):
        return [], [Problem("a grid is a list of parameter sets, or a mapping of parameter → list of values")]
    if set(data) <= {"grid", "runs"} and data:
        combined, problems = _combine(data.get("grid") or {}, "grid.")
        listed, more = _structured(data.get("runs") or [])
        return combined + listed, problems + more
    return _combine(data, "")


def _combine(grid: Any, where: str) -> tuple[list[dict[str, Any]], list[Problem]]:
    if not isinstance(grid, dict):
        return [], [Problem("expected a mapping of parameter → list of values", where.rstrip("."))]
    problems = [Problem("expected a list of values", f"{where}{k}") for k, v in grid.items() if not isinstance(v, list)]
    if problems:
        return [], problems
    total = 1
    for values in grid.values():
        total *= len(values)
    if total > MAX_RUNS:
        return [], [Problem(f"the grid makes {total:,} runs, more than {MAX_RUNS:,}", where.rstrip("."))]
    names = list(grid)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*grid.values())], []
