"""Validate a Kestra flow document: the schema's structure plus Kestra's semantic rules.

One entry for everything: hand-written YAML files, and the flows nbops generates (export validates
what it is about to write with the same function).
"""
from __future__ import annotations

from functools import cache
from typing import Any

from ..errors import Problem
from .kestra_schema import FLOW_SCHEMA, MESSAGES
from .rules import semantic_findings
from .schemacheck import SchemaChecker, dedupe
from .yamlsafe import Loaded, YamlProblem, format_path, load_yaml


@cache
def _checker() -> SchemaChecker:
    return SchemaChecker(FLOW_SCHEMA, MESSAGES)


def flow_problems(data: Any, loaded: Loaded | None = None) -> list[Problem]:
    """Every problem of a flow document, located by field path (and line when ``loaded`` is given)."""
    if not isinstance(data, dict):
        return [Problem("a flow is a YAML mapping with at least id, namespace and tasks", line=1)]
    line_of = loaded.line_of if loaded else (lambda path: None)
    problems = [Problem(message, format_path(path), line_of(path))
                for path, _, message in dedupe(_checker().errors(data))]
    problems += [Problem(message, format_path(path), line_of(path), hint=hint)
                 for path, message, hint in semantic_findings(data)]
    return problems


def parse_flow_text(text: str) -> tuple[Any, list[Problem]]:
    """Load and validate one flow's YAML text; never raises for bad input."""
    try:
        loaded = load_yaml(text)
    except YamlProblem as exc:
        return None, [exc.problem]
    return loaded.data, flow_problems(loaded.data, loaded)
