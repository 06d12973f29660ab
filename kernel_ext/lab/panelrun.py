"""Run from the panel: papermill in a background thread (the kernel stays free), the progress bar
moving as steps end, then a link to the executed notebook or the failing cell."""
from __future__ import annotations

import threading
from typing import Any


def _step_count(conversion: Any) -> int:
    return len(conversion.header.step_notebooks) or 1


def start_run(panel: Any) -> None:
    from .param_widgets import values_of

    if panel.run_thread is not None and panel.run_thread.is_alive():
        panel._say("a run is already going on")
        return
    values = values_of(panel.view.params)
    total = _step_count(panel.conversion) if panel.conversion is not None else 1
    progress = panel.view.progress
    progress.max, progress.value, progress.bar_style, progress.layout.display = total, 0, "info", None
    panel.run_status, panel.run_link, panel.failing_cell = "RUNNING", "", ""
    panel.view.run_link.value = ""
    panel._say("running with papermill…")
    panel.run_thread = threading.Thread(target=panel._act, args=("run", lambda: _run(panel, values)),
                                        name="nbops-run", daemon=True)
    panel.run_thread.start()


def _on_step(panel: Any, step: Any) -> None:
    panel.view.progress.value = min(panel.view.progress.max, panel.view.progress.value + 1)
    if step.output_notebook:
        panel.run_link = step.output_notebook
        panel.view.run_link.value = panel.view.link(panel.target.project.root, panel.target.path(),
                                                    step.output_notebook)


def _run(panel: Any, values: dict[str, Any]) -> None:
    from .actions import failing_step, run

    try:
        record = run(panel.target, values, on_step=lambda step: _on_step(panel, step))
    except BaseException:
        panel.run_status, panel.view.progress.bar_style = "ERROR", "danger"
        raise
    panel.run_status = record.status.value
    failed = failing_step(record)
    panel.view.progress.bar_style = "success" if failed is None and record.status.value == "SUCCESS" else "danger"
    if failed is not None and failed.error is not None:
        where = f"cell {failed.error.cell}" if failed.error.cell is not None else f"step {failed.step}"
        source = _cell_source(panel.target.project.root, failed.output_notebook, failed.error.cell)
        panel.failing_cell = f"{where}{source}: {failed.error.name}: {failed.error.message}"
        panel._say(f"run {record.id} {record.status.value} in {failed.step}, {panel.failing_cell}", error=True)
    else:
        panel._say(f"run {record.id}: {record.status.value} in {record.duration or 0:.1f}s")
    panel._refresh_runs()


def _cell_source(root: Any, notebook: str | None, index: int | None) -> str:
    """`` (print(x))``: the failing cell's first line, as the executed notebook holds it."""
    import json

    if notebook is None or index is None:
        return ""
    try:
        cells = json.loads((root / notebook).read_text(encoding="utf-8"))["cells"]
        first = "".join(cells[index]["source"]).strip().splitlines()[0]
    except (OSError, ValueError, KeyError, IndexError):
        return ""
    return f" ({first[:60]})"
