"""The ``%nbops`` panel: ipywidgets around the same services as the CLI.

Every button's work goes through :meth:`Panel._act`, which turns any error into a readable message
in the panel. :meth:`Panel.state` says what the panel shows, as JSON-able data (tests and browser
checks read it). CSS classes (``nbops-panel``, ``nbops-validate``, ...) are stable for the same reason.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from html import escape
from typing import Any

from .actions import Target
from .panelview import BUTTONS, TOOLTIPS, PanelView, pre

_LAST: list[Panel] = []  # the panel shown last, for current()


def current() -> Panel:
    """The panel this kernel showed last (``%nbops``)."""
    if not _LAST:
        raise LookupError("no nbops panel yet: run %nbops")
    return _LAST[-1]


class Panel:
    def __init__(self, target: Target):
        self.target = target
        self.view = PanelView()
        self.conversion: Any = None
        self.message, self.error, self.output, self.output_kind = "", False, "", ""
        self.run_thread: threading.Thread | None = None
        self.run_status, self.run_link, self.failing_cell = "", "", ""
        self.runs: list[Any] = []
        self.reason = ""  # why Commit/Push/Sync are disabled
        handlers: dict[str, Callable[[], None]] = {
            "validate": self.validate, "run": self.start_run, "yaml": self.show_yaml, "diff": self.show_diff,
            "export": self.export, "commit": self.commit, "push": self.push, "sync": self.plan_sync,
            "confirm": self.confirm_sync}
        for name, handler in handlers.items():
            self.view.buttons[name].on_click(lambda _b, h=handler, n=name: self._act(n, h))
        self._act("validate", self.validate)

    def show(self) -> None:
        from IPython.display import display

        _LAST.append(self)
        display(self.view.root)

    def click(self, name: str) -> None:
        """Press a button (as a user would; a disabled button does nothing)."""
        button = self.view.buttons[name]
        if not button.disabled:
            button.click()

    # --- what the panel shows

    def _say(self, text: str, error: bool = False) -> None:
        self.message, self.error = text, error
        css = "nbops-error" if error else "nbops-ok"
        self.view.message.value = f"<div class='{css}'>{pre(text)}</div>" if text else ""

    def _show(self, kind: str, text: str) -> None:
        self.output, self.output_kind = text, kind
        self.view.output.value = f"<div class='nbops-output-{kind}'>{pre(text)}</div>" if text else ""

    def _act(self, name: str, work: Callable[[], None]) -> None:
        from .messages import readable

        try:
            work()
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message in the panel
            self._say(f"{name}: {readable(exc)}", error=True)

    # --- the actions

    def validate(self) -> None:
        from . import actions

        if self.target.notebook is None:
            self._update_buttons(actions.NO_NOTEBOOK)
            raise actions.NbopsError(actions.NO_NOTEBOOK)
        self.conversion = actions.validate(self.target)
        self.view.header.value = self.view.header_html(self.conversion)
        invalid = None if self.conversion.ok else "the flow header is invalid: fix it, then Validate"
        self._update_buttons(invalid)
        self.view.set_params(self.conversion)
        self._refresh_runs()
        problems = "\n".join(p.render(self.conversion.notebook.path) for p in self.conversion.problems)
        self._say(problems or f"valid: flow {self.conversion.namespace}.{self.conversion.flow_id}",
                  error=bool(problems))

    def _update_buttons(self, invalid: str | None) -> None:
        """Commit, Push and Sync need a valid header and a Git repository; Diff needs Git."""
        git = self.target.git_problem()
        self.reason = invalid or git or ""
        for name in ("commit", "push", "sync", "confirm"):
            button = self.view.buttons[name]
            button.disabled = bool(self.reason)
            button.tooltip = self.reason or TOOLTIPS[name]
        self.view.buttons["diff"].disabled = git is not None
        self.view.reason.value = f"<span class='nbops-reason-text'>{escape(self.reason)}</span>" if self.reason else ""

    def show_yaml(self) -> None:
        from .actions import flow_yaml

        self._show("yaml", flow_yaml(self.target))
        self._say("the Kestra flow this notebook exports to")

    def export(self) -> None:
        from .actions import export

        written = export(self.target)
        self._say("\n".join(f"wrote {p}" for p in written) or "unchanged: the flow file is up to date")

    def show_diff(self) -> None:
        from .actions import diff

        found = diff(self.target)
        self._show("diff", "".join(d.diff for d in found))
        self._say(f"{len(found)} file(s) differ from HEAD" if found else "no change against HEAD")

    def commit(self) -> None:
        from .actions import commit

        result = commit(self.target, self.view.commit_message.value.strip() or None)
        if result.commit is None:
            self._say("nothing to commit: HEAD already holds this notebook and its flow")
            return
        self._say(f"committed {result.commit[:12]}: {result.message}\n" + "\n".join(f"  {p}" for p in result.files))
        self.view.commit_message.value = ""

    def push(self) -> None:
        from .actions import push

        result = push(self.target)
        plan = "\n".join(f"{c.change.value:<10} {c.path}" for c in result.plan)
        self._show("plan", plan)
        self._say(f"pushed {result.commit} to origin/{result.branch}")

    def plan_sync(self) -> None:
        from .actions import sync

        result = sync(self.target, dry_run=True)
        lines = [f"{c.change.value:<11} {c.path}" for c in result.plan]
        lines += [f"{'KEPT':<11} {p}  (not on the branch)" for p in result.kept]
        self._show("plan", "\n".join(lines) or "nothing to change")
        self.view.show_confirm(True)
        self._say(f"sync plan from origin/{result.branch}: nothing changed yet; press Confirm to apply it")

    def confirm_sync(self) -> None:
        from .actions import sync

        self.view.show_confirm(False)
        result = sync(self.target, dry_run=False)
        backup = f"; replaced files saved in {result.backup}" if result.backup else ""
        self._act("validate", self.validate)  # the notebook may have changed under the panel
        after = f"\n{self.message}" if self.error else ""
        self._say(f"in sync with origin/{result.branch}{backup}{after}", error=self.error)

    # --- running

    def start_run(self) -> None:
        from .panelrun import start_run

        start_run(self)

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the run started by Run (if any) to end."""
        if self.run_thread is not None:
            self.run_thread.join(timeout)

    def _refresh_runs(self) -> None:
        from .actions import last_runs

        self.runs = last_runs(self.target, self.conversion)
        self.view.set_runs(self.runs)

    def state(self) -> dict[str, Any]:
        conv = self.conversion
        buttons = self.view.buttons
        return {
            "notebook": self.target.notebook.as_posix() if self.target.notebook else None,
            "flow": f"{conv.namespace}.{conv.flow_id}" if conv is not None and conv.ok else None,
            "valid": bool(conv is not None and conv.ok),
            "problems": [p.render() for p in conv.problems] if conv is not None else [],
            "disabled": {name: buttons[name].disabled for name in BUTTONS},
            "confirm_visible": self.view.confirm_visible, "reason": self.reason,
            "message": self.message, "error": self.error, "output_kind": self.output_kind, "output": self.output,
            "params": {name: str(w.value) for name, w in self.view.params.items()},
            "running": bool(self.run_thread and self.run_thread.is_alive()), "run_status": self.run_status,
            "run_link": self.run_link, "failing_cell": self.failing_cell,
            "progress": [self.view.progress.value, self.view.progress.max],
            "runs": [{"id": r.id, "status": r.status.value} for r in self.runs],
        }
