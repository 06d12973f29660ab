"""New flow notebooks: from the template (``nbops new NAME``) or from a Kestra flow's inputs
(``nbops new --from-flow FILE``). Cells are (kind, source, tags) triples; an adapter writes them."""
from __future__ import annotations

from typing import Any

from .input_types import LITERAL_IMPORT, TypeRow, cell_value, element_row, type_row
from .mapping import input_to_dict, trigger_to_dict
from .model import Flow, FlowTrigger, Input, InputType, ScheduleTrigger
from .notebook import LOAD_EXT_LINE, PARAMETERS_TAG, SKIP_TAG
from .parameters_cell import parse_parameters
from .yamlsafe import dump_yaml

CellSpec = tuple[str, str, tuple[str, ...]]


def _header_cell(header: dict[str, Any], comment: str) -> CellSpec:
    body = dump_yaml(header) if header else ""
    return "code", f"%%flow\n{comment}{body}", (SKIP_TAG,)


def template_cells(flow_id: str, title: str) -> list[CellSpec]:
    """A minimal, valid flow notebook a new user can run at once."""
    comment = ("# The flow header (YAML). Every key is optional; see the authoring guide.\n"
               "# schedule: \"0 6 * * *\"\n# timezone: Europe/Paris\n")
    return [
        ("code", LOAD_EXT_LINE + "\n", (SKIP_TAG,)),
        _header_cell({"id": flow_id, "labels": {"owner": "analytics"}}, comment),
        ("markdown", f"# {title}\n\nWhat this flow does, for whom, and where its results go.\n", ()),
        ("code", "# Each parameter becomes a Kestra input; the comment becomes its description.\n"
                 "run_date = \"2024-01-01\"  # the day to process\nlimit = 100  # rows to read at most\n",
         (PARAMETERS_TAG,)),
        ("code", "print(f\"Processing {limit} rows for {run_date}\")\n", ()),
    ]


def _element(item: Input) -> TypeRow | None:
    """The row a list input's elements are annotated by (a list of choices holds their text), None
    for a scalar input."""
    if not type_row(item.type).items:
        return None
    return type_row(InputType.STRING) if type_row(item.type).choices else \
        element_row(item.item_type or InputType.STRING)


def _annotation(item: Input) -> str:
    row, element = type_row(item.type), _element(item)
    if element is not None:
        return f"{row.annotation}[{element.annotation}]"
    if row.choices and item.values:
        return "Literal[" + ", ".join(repr(v) for v in item.values) + "]"
    return row.annotation


def parameter_line(item: Input) -> str:
    annotation = _annotation(item)
    if not item.required:  # ``X | None``: Kestra may send null
        text = f"{item.id}: {annotation} | None = {cell_value(item.type, item.defaults)!r}"
    elif item.defaults is None:
        text = f"{item.id}: {annotation}"
    else:
        text = f"{item.id}: {annotation} = {cell_value(item.type, item.defaults)!r}"
    return text + (f"  # {' '.join(item.description.split())}" if item.description else "")


def _inferred(item: Input) -> Input:
    """The input nbops would infer back from :func:`parameter_line` alone."""
    params, _ = parse_parameters(parameters_source([item]))
    if not params:
        return Input(item.id, InputType.STRING)
    p = params[0]
    kind = p.type
    return Input(p.name, kind, description=p.description, required=not p.optional,
                 defaults=item.defaults if p.has_default else None,
                 item_type=p.item_type if kind is InputType.ARRAY else None, values=p.choices)


def input_override(item: Input) -> dict[str, Any]:
    """The ``inputs:`` header entry needed so the notebook converts back to exactly ``item``."""
    wanted, got = input_to_dict(item), input_to_dict(_inferred(item))
    return {k: v for k, v in wanted.items() if k != "id" and got.get(k) != v} | \
        ({"required": True} if "required" in got and "required" not in wanted else {})


def _imports(inputs: list[Input] | tuple[Input, ...]) -> list[str]:
    rows = [r for i in inputs for r in (type_row(i.type), _element(i)) if r is not None]
    lines = {r.annotation_import for r in rows if r.annotation_import}
    lines |= {LITERAL_IMPORT for i in inputs if _annotation(i).startswith("Literal[")}
    return sorted(lines)  # datetime's names, then typing's


def parameters_source(inputs: list[Input] | tuple[Input, ...]) -> str:
    """A parameters cell defining ``inputs``: the imports its annotations need, then a line per input."""
    return "\n".join([*_imports(inputs), *(parameter_line(i) for i in inputs)]) + "\n"


def flow_header(flow: Flow) -> dict[str, Any]:
    header: dict[str, Any] = {"id": flow.id}
    if flow.labels:
        header["labels"] = dict(flow.labels)
    raw = []
    for trigger in flow.triggers:
        if isinstance(trigger, ScheduleTrigger) and "schedule" not in header and not trigger.inputs:
            header["schedule"] = trigger.cron
            if trigger.timezone:
                header["timezone"] = trigger.timezone
        elif isinstance(trigger, FlowTrigger) and "after" not in header and trigger.states == ("SUCCESS",) \
                and all(r.flow_id for r in trigger.upstream) and not trigger.inputs:
            header["after"] = [f"{r.namespace}.{r.flow_id}" for r in trigger.upstream]
        else:
            raw.append(trigger)
    overrides = {i.id: o for i in flow.inputs if (o := input_override(i))}
    if overrides:
        header["inputs"] = overrides
    if raw:
        header["triggers"] = [trigger_to_dict(t) for t in raw]
    return header


def flow_cells(flow: Flow, source_name: str) -> list[CellSpec]:
    """A notebook that converts back to ``flow``'s id, inputs, labels and triggers."""
    description = flow.description or f"# {flow.id}\n\nCreated from the Kestra flow {source_name}."
    tasks = "\n".join(f"#   - {t.id} ({t.type})" for t in flow.tasks)
    params = parameters_source(flow.inputs) if flow.inputs else "# This flow takes no inputs.\n"
    return [
        ("code", LOAD_EXT_LINE + "\n", (SKIP_TAG,)),
        _header_cell(flow_header(flow), f"# Created from {source_name}\n"),
        ("markdown", description.rstrip() + "\n", ()),
        ("code", params, (PARAMETERS_TAG,)),
        ("code", f"# The original flow ran these tasks; write the notebook's own code here.\n{tasks}\n", ()),
    ]
