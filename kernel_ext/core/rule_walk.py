"""What the Kestra flow rules (core/rules.py) share: the finding and rule types, and walks over a
flow's tasks, list items and input ids."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from .yamlsafe import Path

Finding = tuple[Path, str, str | None]
Rule = Callable[[dict[str, Any]], Iterator[Finding]]
_TASK_LIST_KEYS = ("tasks", "errors", "finally", "afterExecution", "then", "else", "defaults")


def iter_tasks(flow: dict[str, Any]) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every task of the flow, nested ones and errors/finally branches included."""
    stack: list[tuple[Path, Any]] = [((key,), flow.get(key)) for key in reversed(_TASK_LIST_KEYS[:4])]
    while stack:
        path, tasks = stack.pop()
        for index, task in enumerate(tasks if isinstance(tasks, list) else ()):
            if not isinstance(task, dict):
                continue
            if isinstance(task.get("task"), dict) and "type" not in task:  # a Dag entry
                task = task["task"]
                index_path: Path = path + (index, "task")
            else:
                index_path = path + (index,)
            yield index_path, task
            stack.extend((index_path + (key,), task.get(key)) for key in _TASK_LIST_KEYS)
            cases = task.get("cases")
            if isinstance(cases, dict):
                stack.extend((index_path + ("cases", name), branch) for name, branch in cases.items())


def flow_items(flow: dict[str, Any], key: str) -> Iterator[tuple[int, dict[str, Any]]]:
    value = flow.get(key)
    for index, item in enumerate(value if isinstance(value, list) else ()):
        if isinstance(item, dict):
            yield index, item


def input_id(item: dict[str, Any]) -> Any:
    return item.get("id", item.get("name"))
