"""The papermill ``parameters`` cell → typed parameters (names, defaults, Kestra types, descriptions).

Only plain assignments of literal values are parameters (what papermill can override). Types come
from the annotation when there is one, else from the value (the rows of :mod:`input_types` say which
annotations and values give which type); the trailing comment is the description.
"""
from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass
from typing import Any

from ..errors import Problem
from .input_types import annotated_type, scalar_type, text_type, type_row
from .model import InputType

@dataclass(frozen=True)
class Parameter:
    name: str
    value: Any  # the literal default; None when the cell gives none
    type: InputType
    item_type: InputType | None = None
    choices: tuple[Any, ...] | None = None  # from typing.Literal[...]
    description: str | None = None
    has_default: bool = True
    optional: bool = False  # annotated Optional[...] / ``X | None`` or defaulting to None
    line: int = 1


def type_of_value(value: Any) -> tuple[InputType, InputType | None]:
    """The Kestra type (and ARRAY item type) a literal value maps to."""
    if isinstance(value, str) and (recognised := text_type(value)) is not None:
        return recognised, None
    scalar = scalar_type(value)
    if scalar is not None:
        return scalar, None
    if isinstance(value, list | tuple):
        items = {scalar_type(v) for v in value}
        if len(items) == 1 and None not in items:
            return InputType.ARRAY, items.pop()
        return InputType.JSON, None
    return (InputType.STRING, None) if value is None else (InputType.JSON, None)


@dataclass(frozen=True)
class _Annotation:
    type: InputType | None = None
    item_type: InputType | None = None
    choices: tuple[Any, ...] | None = None
    optional: bool = False


def _annotation(node: ast.expr) -> _Annotation | None:
    """Understand int, list[str], Literal['a', 'b'], Optional[X] and X | None; None if unknown."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):  # a string annotation
        try:
            return _annotation(ast.parse(node.value, mode="eval").body)
        except SyntaxError:
            return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        sides = [node.left, node.right]
        rest = [s for s in sides if not (isinstance(s, ast.Constant) and s.value is None)]
        inner = _annotation(rest[0]) if len(rest) == 1 else None
        return _Annotation(inner.type, inner.item_type, inner.choices, True) if inner else None
    name = _dotted(node.value if isinstance(node, ast.Subscript) else node)
    if isinstance(node, ast.Subscript):
        if name == "Optional":
            inner = _annotation(node.slice)
            return _Annotation(inner.type, inner.item_type, inner.choices, True) if inner else None
        if name == "Literal":
            elements = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            choices = tuple(ast.literal_eval(e) for e in elements)
            return _Annotation(InputType.SELECT, choices=choices)
        outer = annotated_type(name or "")
        if outer is not None and type_row(outer).items:
            inner = _annotation(node.slice)
            return _Annotation(outer, inner.type if inner else None)
        return _Annotation(outer) if outer else None
    found = annotated_type(name or "")
    return _Annotation(found) if found else None


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):  # datetime.date, typing.Literal
        return node.attr
    return None


def _comment_after(lines: list[str], node: ast.stmt) -> str | None:
    line = lines[(node.end_lineno or node.lineno) - 1]
    rest = line.encode()[node.end_col_offset or 0:].decode().strip()  # ast offsets count UTF-8 bytes
    return rest[1:].strip() or None if rest.startswith("#") else None


def parse_parameters(source: str) -> tuple[list[Parameter], list[Problem]]:
    """Parameters of a ``parameters`` cell, and every problem found (lines are 1-based in the cell)."""
    try:
        with warnings.catch_warnings():  # a user's odd escape sequence is theirs to see in Jupyter, not ours
            warnings.simplefilter("ignore", (SyntaxWarning, DeprecationWarning))
            tree = ast.parse(source)
    except SyntaxError as exc:
        return [], [Problem(f"the parameters cell is not plain Python: {exc.msg}", line=exc.lineno,
                            hint="keep only assignments such as  alpha = 0.5  # learning rate")]
    lines = source.splitlines()
    params: list[Parameter] = []
    problems: list[Problem] = []
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):  # e.g. the imports an annotation needs
            continue
        try:
            params.append(_parameter(node, lines))
        except _NotAParameter as exc:
            problems.append(Problem(str(exc), line=node.lineno, hint=exc.hint))
    seen: set[str] = set()
    for param in params:
        if param.name in seen:
            problems.append(Problem(f"parameter {param.name!r} is assigned twice", line=param.line))
        seen.add(param.name)
    return params, problems


class _NotAParameter(Exception):
    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.hint = hint


_PLAIN_HINT = "write one literal value per line, e.g.  region = \"eu\"  or  limit: int = 10"


def _parameter(node: ast.stmt, lines: list[str]) -> Parameter:
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
        raise _NotAParameter("a parameters cell holds assignments only, not a bare string", _PLAIN_HINT)
    value_node: ast.expr | None
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        name, value_node, annotation = node.targets[0].id, node.value, None
    elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        name, value_node, annotation = node.target.id, node.value, _annotation(node.annotation)
    else:
        raise _NotAParameter("this line is not a plain assignment to one name", _PLAIN_HINT)
    has_default = value_node is not None
    try:
        value = ast.literal_eval(value_node) if value_node is not None else None
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise _NotAParameter(f"parameter {name!r} is not a literal value (papermill can only replace literals)",
                             _PLAIN_HINT) from None
    return _typed(name, value, annotation, has_default, _comment_after(lines, node), node.lineno)


def _jsonable(value: Any) -> bool:
    if isinstance(value, float):
        return value == value and value not in (float("inf"), float("-inf"))
    if isinstance(value, list | tuple):
        return all(_jsonable(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _jsonable(v) for k, v in value.items())
    return value is None or isinstance(value, bool | int | str)


def _typed(name: str, value: Any, note: _Annotation | None, has_default: bool, comment: str | None,
           line: int) -> Parameter:
    if not _jsonable(value):
        raise _NotAParameter(f"parameter {name!r} has a value Kestra cannot pass ({type(value).__name__})",
                             "use numbers, text, booleans, None, and lists or dicts with text keys of those")
    inferred, item = type_of_value(value)
    kind = note.type if note and note.type else inferred
    item = note.item_type if note and note.type else item
    if note and note.type and value is not None and not _fits(value, note):
        raise _NotAParameter(f"parameter {name!r} is annotated {note.type.value} but its value is {value!r}")
    if kind is InputType.ARRAY and item is None:
        item = InputType.STRING if not value else type_of_value(value)[1] or InputType.STRING
    return Parameter(name, value, kind, item, note.choices if note else None, comment, has_default,
                     bool(note and note.optional) or (has_default and value is None), line)


def _fits(value: Any, note: _Annotation) -> bool:
    if note.choices is not None:
        return value in note.choices
    return type_row(note.type).fits(type_of_value(value)[0]) if note.type else True
