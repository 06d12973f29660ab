"""A flow's fields as the notebook gives them: its header and parameters cells, the inputs (parameters,
with the header's overrides; defaults escaped for the Kestra version), the triggers, the outputs and
the description. :mod:`convert` assembles the flow from them."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..errors import Problem
from .header import Header
from .identity import header_cell
from .input_types import flow_default
from .kestra_version import Feature, KestraVersion, has
from .mapping import input_fields, trigger_from_dict
from .model import Flow, FlowTrigger, Input, InputType, Output, ScheduleTrigger, Trigger
from .notebook import PARAMETERS_TAG, Cell, CellKind, NotebookSource
from .parameters_cell import Parameter, parse_parameters
from .pebble_escape import escape_value, strings_of, unescape_value, unrepresentable

if TYPE_CHECKING:
    from .flow_build import FlowBuild


def find_cells(notebook: NotebookSource) -> tuple[Cell | None, Cell | None, list[Problem]]:
    header, problems = header_cell(notebook)
    params = [c for c in notebook.cells if c.kind is CellKind.CODE and PARAMETERS_TAG in c.tags]
    if len(params) > 1:
        problems.append(Problem(f"{len(params)} cells tagged 'parameters' "
                                f"(cells {', '.join(str(c.index) for c in params)})",
                                cell=params[1].index, hint="papermill uses one parameters cell: merge them"))
    return header, (params[0] if params else None), problems


def parameters_of(notebook: NotebookSource) -> tuple[list[Parameter], list[Problem]]:
    _, cell, problems = find_cells(notebook)
    if cell is None:
        return [], problems
    params, found = parse_parameters(cell.source)
    return params, problems + [p.located(cell=cell.index) for p in found]


def flow_description(header: Header, notebook: NotebookSource) -> str | None:
    if header.description:
        return header.description
    first = next((c for c in notebook.cells if c.kind is CellKind.MARKDOWN and c.source.strip()), None)
    return first.source.strip() if first else None


def _input(param: Parameter) -> Input:
    """The flow input of a parameter. Its ``defaults`` is the text or value as written (what ``nbops run``
    passes); :func:`kestra_inputs` escapes it for the Kestra versions that render defaults."""
    defaults = flow_default(param.type, param.value) if param.has_default else None  # None: Kestra sends null
    return Input(param.name, param.type, description=param.description, required=not param.optional,
                 defaults=defaults, item_type=param.item_type if param.type is InputType.ARRAY else None,
                 values=param.choices)


def _overridden(item: Input, override: Mapping[str, Any]) -> Input:
    """``item`` with a header's ``inputs.<name>`` entry applied. A new type keeps only the fields every
    type has (the rest fit the inferred type only); ``options``, the old name of ``values``, gives
    none when values are inferred."""
    fields = input_fields(override)
    if fields.get("type", item.type) is not item.type:
        item = Input(item.id, item.type, description=item.description, display_name=item.display_name,
                     required=item.required, defaults=item.defaults)
    elif "values" not in override and item.values is not None:
        fields.pop("values", None)
    return replace(item, **fields)


def flow_inputs(params: list[Parameter], header: Header, cell: int | None) -> tuple[list[Input], list[Problem]]:
    names = {p.name for p in params}
    problems = [Problem(f"inputs.{name} overrides a parameter the parameters cell does not define",
                        f"inputs.{name}", header.lines.get("inputs"), cell,
                        "add the parameter to the cell tagged 'parameters' or remove the override")
                for name in header.inputs if name not in names]
    inputs = []
    for param in params:
        override = header.inputs.get(param.name)
        inputs.append(_overridden(_input(param), override) if override else _input(param))
    return inputs, problems


def kestra_inputs(document: dict[str, Any], target: KestraVersion) -> dict[str, Any]:
    """``document`` with its inputs' defaults as Kestra ``target`` must read them to give the notebook
    the text written in the parameters cell: from 1.0 defaults are Pebble templates, so their Pebble
    delimiters are escaped (core/pebble_escape.py); before, they are taken as they are."""
    if not has(target, Feature.PEBBLE_IN_INPUT_DEFAULTS) or "inputs" not in document:
        return document
    inputs = [{**item, "defaults": escape_value(item["defaults"])} if "defaults" in item else item
              for item in document["inputs"]]
    return {**document, "inputs": inputs}


def as_written(flow: Flow, target: KestraVersion) -> Flow:
    """A flow read from a file, with the defaults nbops escaped for ``target`` back as they were
    written (what a parameters cell made from it should hold); other defaults are left alone."""
    if not has(target, Feature.PEBBLE_IN_INPUT_DEFAULTS):
        return flow
    return replace(flow, inputs=tuple(replace(i, defaults=unescape_value(i.defaults)) if i.defaults is not None else i
                                      for i in flow.inputs))


def default_problems(inputs: list[Input], target: KestraVersion) -> list[Problem]:
    """Defaults no escape can carry through Kestra ``target``'s rendering unchanged."""
    if not has(target, Feature.PEBBLE_IN_INPUT_DEFAULTS):
        return []
    return [Problem(f"the default of input {item.id!r} holds a '{{% raw %}}…{{% endraw %}}' block, which Kestra "
                    f"{target} strips from every rendered value, so the notebook would not get the text as written",
                    f"inputs.{item.id}", hint="write the text differently (e.g. split the tag), or pass it at run "
                    "time as a parameter")
            for item in inputs if any(unrepresentable(s) for s in strings_of(item.defaults))]


def flow_triggers(header: Header) -> list[Trigger]:
    triggers: list[Trigger] = []
    if header.schedule:
        triggers.append(ScheduleTrigger("schedule", header.schedule, header.timezone))
    if header.after:
        triggers.append(FlowTrigger("upstream", header.after))
    return triggers + [trigger_from_dict(t) for t in header.triggers]


def flow_outputs(header: Header, last_task: str | None, build: FlowBuild) -> list[Output]:
    outputs = []
    for name, spec in header.outputs.items():
        spec = {"type": spec} if isinstance(spec, str) else spec
        kind = spec.get("type", "STRING")
        if kind not in InputType.__members__:
            build.problem(f"output {name!r} has unknown type {kind!r}", "outputs")
            continue
        value = spec.get("value", f"{{{{ outputs.{last_task}.vars.{name} }}}}")
        outputs.append(Output(name, InputType(kind), value, spec.get("description")))
    return outputs
