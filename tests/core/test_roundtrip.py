"""Round trips through the pure core: flow → scaffolded notebook → flow, and header YAML → Header."""
from __future__ import annotations

import keyword

from hypothesis import given, settings
from hypothesis import strategies as st

from kernel_ext.core.convert import convert
from kernel_ext.core.header import parse_header
from kernel_ext.core.mapping import flow_from_dict, input_to_dict
from kernel_ext.core.model import Flow, FlowRef, FlowTrigger, Input, InputType, ScheduleTrigger, Task
from kernel_ext.core.notebook import Cell, CellKind, NotebookSource
from kernel_ext.core.options import Options
from kernel_ext.core.notebook_template import flow_cells, template_cells
from kernel_ext.core.yamlsafe import dump_yaml

_ids = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True).filter(lambda n: not keyword.iskeyword(n))
_text = st.text(st.characters(whitelist_categories=("L", "N"), whitelist_characters=" -_."), min_size=1,
                max_size=20).map(str.strip).filter(bool)


def _input(draw: st.DrawFn, name: str) -> Input:
    kind = draw(st.sampled_from([t for t in InputType if t not in (InputType.FORM, InputType.ENUM, InputType.BOOL)]))
    description = draw(st.one_of(st.none(), _text))
    required = draw(st.booleans())
    defaults = draw({
        InputType.STRING: st.text(max_size=10), InputType.INT: st.integers(-1000, 1000),
        InputType.FLOAT: st.floats(-1e6, 1e6, allow_nan=False).map(lambda f: f if f != int(f) else f + 0.5),
        InputType.BOOLEAN: st.booleans(), InputType.DATE: st.dates().map(str),
        InputType.DATETIME: st.just("2024-03-01T10:00:00"), InputType.TIME: st.just("10:00:00"),
        InputType.DURATION: st.just("PT1H"), InputType.JSON: st.just('{"a": 1}'), InputType.YAML: st.just("a: 1"),
        InputType.URI: st.just("https://example.com/x"), InputType.EMAIL: st.just("a@example.com"),
        InputType.ARRAY: st.lists(st.integers(0, 9), min_size=1, max_size=3),
        InputType.SELECT: st.just("b"), InputType.MULTISELECT: st.just(["a"]),
        InputType.FILE: st.none(), InputType.SECRET: st.none(),
    }[kind].map(lambda v: v) | st.none())
    if kind in (InputType.FILE, InputType.SECRET):
        defaults = None
    extra: dict = {}
    if kind is InputType.ARRAY:
        extra["item_type"] = InputType.INT
    if kind in (InputType.SELECT, InputType.MULTISELECT):
        extra["values"] = ("a", "b")
    if kind is InputType.INT and draw(st.booleans()):
        extra.update(min=-1000, max=1000)
    if kind is InputType.STRING and draw(st.booleans()):
        extra["validator"] = "^.*$"
    return Input(name, kind, description=description, required=required, defaults=defaults, **extra)


@st.composite
def flows(draw: st.DrawFn) -> Flow:
    names = draw(st.lists(_ids, min_size=0, max_size=6, unique=True))
    inputs = tuple(_input(draw, n) for n in names)
    triggers = []
    startable = all(not i.required or i.defaults is not None for i in inputs)  # else triggered runs would fail
    if draw(st.booleans()) and startable:
        triggers.append(FlowTrigger("upstream", (FlowRef("acme.other", "x"),)))
    if draw(st.booleans()) and startable:
        triggers.append(ScheduleTrigger("schedule", "0 6 * * *", draw(st.sampled_from([None, "UTC"]))))
    labels = draw(st.dictionaries(_ids, _text, max_size=2))
    return Flow(draw(_ids), "acme.data", (Task("t", "io.kestra.plugin.core.log.Log"),),
                description=draw(st.one_of(st.none(), _text)), labels=labels, inputs=inputs, triggers=tuple(triggers))


def _notebook(cells: list, path: str = "notebooks/nb.ipynb") -> NotebookSource:
    return NotebookSource(path, tuple(Cell(i, CellKind(kind), source, tuple(tags))
                                      for i, (kind, source, tags) in enumerate(cells)))


@settings(max_examples=200, deadline=None)
@given(flows())
def test_flow_to_notebook_to_flow_keeps_inputs_labels_and_triggers(flow: Flow) -> None:
    notebook = _notebook(flow_cells(flow, "source.yml"))
    conversion = convert(notebook, Options(namespace="acme.data"))
    assert conversion.ok, conversion.problems
    back = conversion.flow
    assert back is not None and back.id == flow.id
    assert [input_to_dict(i) for i in back.inputs] == [input_to_dict(i) for i in flow.inputs]
    assert dict(back.labels) == dict(flow.labels)
    assert sorted(back.triggers, key=lambda t: t.id) == sorted(flow.triggers, key=lambda t: t.id)


def test_template_notebook_converts() -> None:
    conversion = convert(_notebook(template_cells("my_flow", "My flow")), Options())
    assert conversion.ok and conversion.flow is not None
    assert [i.id for i in conversion.flow.inputs] == ["run_date", "limit"]
    assert conversion.notebook.cells_needing_skip_tag() == ()


_headers = st.fixed_dictionaries({}, optional={
    "id": _ids, "description": _text, "labels": st.dictionaries(_ids, _text, max_size=3),
    "schedule": st.sampled_from(["0 6 * * *", "@daily", "*/5 * * * 1-5"]),
    "after": st.lists(_ids, min_size=1, max_size=3), "timeout": st.sampled_from(["PT1H", "PT30M", "P1D"]),
    "image": st.sampled_from(["python:3.12-slim", "ghcr.io/a/b:1"]),
    "requirements": st.lists(st.sampled_from(["pandas", "numpy>=2", "requests[socks]"]), max_size=3, unique=True),
    "retry": st.just({"type": "constant", "interval": "PT1M", "maxAttempt": 2}),
})


@settings(max_examples=300, deadline=None)
@given(_headers)
def test_header_yaml_parses_back(data: dict) -> None:
    cell = Cell(0, CellKind.CODE, "%%flow\n" + dump_yaml(data) if data else "%%flow\n")
    header, problems = parse_header(cell, "acme.data")
    assert problems == []
    assert header.id == data.get("id") and header.description == data.get("description")
    assert dict(header.labels) == data.get("labels", {})
    assert header.schedule == data.get("schedule") and header.timeout == data.get("timeout")
    assert header.after == tuple(FlowRef("acme.data", a) for a in data.get("after", []))
    assert header.requirements == tuple(data.get("requirements", []))
    assert header.retry == data.get("retry")


def test_flow_model_round_trips_through_its_document() -> None:
    conversion = convert(_notebook([("code", "%%flow\nschedule: '@daily'\nafter: x\n", ["skip-execution"]),
                                    ("code", "a = 1\nb: list[str] = ['x']", ["parameters"])]), Options())
    assert conversion.flow is not None and conversion.document is not None
    assert flow_from_dict(conversion.document) == conversion.flow


_yamlish = st.text(st.sampled_from(list("abc:-[]{}!&*#'\"\n 0123456789.|>@%")), max_size=200)


@settings(max_examples=500, deadline=None)
@given(st.one_of(_yamlish, st.text(max_size=200)))
def test_any_header_text_gives_problems_never_an_exception(text: str) -> None:
    header, problems = parse_header(Cell(3, CellKind.CODE, "%%flow\n" + text), "acme.data")
    assert all(p.cell == 3 for p in problems)
    if not problems:
        assert header.cell == 3


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(max_size=200), st.text(st.sampled_from(list("xy=: 1'\"[]{}#()\n\\+-.")), max_size=120)))
def test_any_parameters_text_gives_problems_never_an_exception(text: str) -> None:
    from kernel_ext.core.parameters_cell import parse_parameters

    params, problems = parse_parameters(text)
    assert all(p.line is None or p.line >= 1 for p in problems)
    assert len({p.name for p in params}) == len(params) or problems
