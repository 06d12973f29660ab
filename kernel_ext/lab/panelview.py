"""The panel's widgets and how they render (no actions here: see :mod:`panel`)."""
from __future__ import annotations

import os
from html import escape
from typing import Any

# button name → (description, tooltip); the descriptions are what a browser test clicks
BUTTONS = {"validate": ("Validate", "check the header and parameters against Kestra's rules"),
           "run": ("Run", "run the notebook with papermill in a fresh kernel, as `nbops run` does"),
           "yaml": ("YAML", "show the Kestra flow this notebook exports to"),
           "diff": ("Diff", "this notebook and its flow against Git's HEAD"),
           "export": ("Export", "write the flow under _flows/"),
           "commit": ("Commit", "export and commit this notebook and its flow (nothing else)"),
           "push": ("Push", "push to origin and report each flow, as `nbops push` does"),
           "sync": ("Sync", "show what a sync from origin would change (nothing changes before Confirm)"),
           "confirm": ("Confirm", "apply the sync plan shown")}
TOOLTIPS = {name: tip for name, (_, tip) in BUTTONS.items()}


def pre(text: str) -> str:
    return f"<pre style='white-space:pre-wrap;margin:2px 0'>{escape(text)}</pre>"


def _classed(widget: Any, *classes: str) -> Any:
    for css in classes:
        widget.add_class(css)
    return widget


class PanelView:
    def __init__(self) -> None:
        import ipywidgets as w

        self.header = _classed(w.HTML(), "nbops-header")
        self.buttons = {name: _classed(w.Button(description=text, tooltip=tip), f"nbops-{name}", "nbops-button")
                        for name, (text, tip) in BUTTONS.items()}
        self.commit_message = _classed(w.Text(placeholder="commit message (optional)", description="Message"),
                                       "nbops-commit-message")
        self.reason = _classed(w.HTML(), "nbops-reason")
        self.message = _classed(w.HTML(), "nbops-message")
        self.output = _classed(w.HTML(), "nbops-yaml", "nbops-output")
        self.progress = _classed(w.IntProgress(value=0, min=0, max=1, description="run", layout={"display": "none"}),
                                 "nbops-progress")
        self.run_link = _classed(w.HTML(), "nbops-run-link")
        self.runs = _classed(w.HTML(), "nbops-runs")
        self.params_box = _classed(w.VBox(), "nbops-params")
        self.params: dict[str, Any] = {}
        self.confirm_visible = False
        self.buttons["confirm"].layout.display = "none"
        self.buttons["confirm"].button_style = "warning"
        b = self.buttons
        self.root = _classed(w.VBox([
            self.header, self.params_box,
            w.HBox([b["validate"], b["run"], b["yaml"], b["diff"], b["export"]]),
            w.HBox([self.commit_message, b["commit"], b["push"], b["sync"], b["confirm"]]),
            self.reason, w.HBox([self.progress, self.run_link]), self.message, self.output, self.runs,
        ]), "nbops-panel")

    def show_confirm(self, visible: bool) -> None:
        self.confirm_visible = visible
        self.buttons["confirm"].layout.display = None if visible else "none"

    def header_html(self, conversion: Any) -> str:
        path = escape(conversion.notebook.path)
        if conversion.ok:
            return (f"<b class='nbops-flow-id'>{escape(conversion.namespace)}.{escape(conversion.flow_id)}</b> "
                    f"<span class='nbops-status nbops-valid'>✓ valid</span> <small>{path}</small>")
        return (f"<b class='nbops-flow-id'>{path}</b> <span class='nbops-status nbops-invalid'>"
                f"✗ {len(conversion.problems)} problem(s)</span>")

    def set_params(self, conversion: Any) -> None:
        """One widget per input, rebuilt only when the inputs changed (edited values survive Validate)."""
        from .param_widgets import param_widget

        inputs = conversion.flow.inputs if conversion.flow is not None else ()
        if [(i.id, i.type, i.defaults) for i in inputs] == getattr(self, "_inputs", None):
            return
        self._inputs = [(i.id, i.type, i.defaults) for i in inputs]
        self.params = {i.id: param_widget(i) for i in inputs}
        self.params_box.children = tuple(self.params.values())

    def set_runs(self, records: list[Any]) -> None:
        import time

        if not records:
            self.runs.value = ""
            return
        rows = "".join(f"<tr><td><code>{escape(r.id)}</code></td><td class='nbops-run-{escape(r.status.value)}'>"
                       f"{escape(r.status.value)}</td><td>{time.strftime('%Y-%m-%d %H:%M', time.localtime(r.started))}"
                       f"</td><td>{'' if r.duration is None else f'{r.duration:.1f}s'}</td></tr>" for r in records)
        self.runs.value = f"<b>last runs</b><table>{rows}</table>"

    def link(self, root: Any, notebook: Any, output: str) -> str:
        """A link to the executed notebook, relative to this notebook's folder (JupyterLab opens it)."""
        href = os.path.relpath(root / output, notebook.parent).replace(os.sep, "/")
        return f"<a href='{escape(href)}' target='_blank' class='nbops-output-notebook'>{escape(output)}</a>"
