"""Where a magic runs: the notebook it belongs to, and what the front-end can show."""
from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Any

UI_ENV = "NBOPS_UI"  # widgets | text | quiet: overrides the detection below
# what the kernel's user namespace may name the notebook by: ipykernel (from JPY_SESSION_NAME), VS Code
_SESSION_NAMES = ("__session__", "__vsc_ipynb_file__")


class Ui(StrEnum):
    WIDGETS = "widgets"  # an interactive front-end (JupyterLab, Notebook 7, VS Code): HTML card, widget panel
    TEXT = "text"  # a terminal IPython: plain text
    QUIET = "quiet"  # a headless run (papermill, nbclient, Kestra): no card at all; line magics print text


def _request(shell: Any) -> dict[str, Any] | None:
    """The content of the execute request being served; None outside a kernel, {} before any."""
    kernel = getattr(shell, "kernel", None)
    if kernel is None:
        return None
    try:
        parent = kernel.get_parent()
    except Exception:  # noqa: BLE001 - ipykernel versions differ (a channel argument, no parent yet)
        parent = getattr(kernel, "_parent_header", None) or {}
    content = parent.get("content") if isinstance(parent, dict) else None
    return content if isinstance(content, dict) else {}


def ui_mode(shell: Any) -> Ui:
    """The front-end's kind. Headless executors (nbclient, so papermill too) send their requests
    with ``allow_stdin`` off, where JupyterLab and the classic front-ends turn it on."""
    forced = os.environ.get(UI_ENV, "").strip().lower()
    if forced in Ui.__members__.values():
        return Ui(forced)
    content = _request(shell)
    if content is None:
        return Ui.TEXT
    return Ui.WIDGETS if content.get("allow_stdin", True) else Ui.QUIET


def loaded_by_a_person(shell: Any) -> bool:
    """Whether a cell typed in a front-end loads the extension (not a kernel start-up through
    ``nbops lab-setup``'s config, nor a headless run): only then is warming up worth it."""
    content = _request(shell)
    return ui_mode(shell) is not Ui.QUIET and (content is None or bool(content))


def notebook_path(shell: Any, explicit: str | None = None) -> Path | None:
    """The notebook the kernel serves: given explicitly, else as the session names it; None when
    unknown or not on disk. A relative session path is tried against the kernel's folder, which
    Jupyter starts in the notebook's folder."""
    user_ns = getattr(shell, "user_ns", {}) or {}
    candidates = [explicit] if explicit else [*(user_ns.get(n) for n in _SESSION_NAMES),
                                              os.environ.get("JPY_SESSION_NAME")]
    for name in (c for c in candidates if isinstance(c, str) and c.endswith(".ipynb")):
        path = Path(name).expanduser()
        for candidate in (path, Path.cwd() / path, Path.cwd() / path.name):
            if candidate.is_file():
                return candidate.resolve()
        if explicit:
            return path  # reported as "not found" by whoever reads it
    return None
