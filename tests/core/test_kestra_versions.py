"""The target Kestra version ([tool.nbops] kestra_version) decides what export emits and what validation
refuses; values reach the notebook as written. Each Kestra fact is cited where it is used
(core/kestra_version.py, core/rules.py, core/tasks.py, core/pebble_escape.py)."""
from __future__ import annotations

import shlex

import re
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernel_ext.core.convert import Conversion, convert
from kernel_ext.core.flow_validation import flow_problems
from kernel_ext.core.kestra_version import SUPPORTED, KestraVersion, version
from kernel_ext.core.model import InputType
from kernel_ext.core.notebook import Cell, CellKind, NotebookSource
from kernel_ext.core.options import Options
from kernel_ext.core.param_values import TextValue, coerce_parameters
from kernel_ext.core.pebble_escape import escape, unescape, unrepresentable
from kernel_ext.core.rules import JAVA_INT_MAX, JAVA_INT_MIN

LOG = "io.kestra.plugin.core.log.Log"
COMMANDS = "io.kestra.plugin.scripts.python.Commands"
V = version


def flow(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"id": "hello", "namespace": "company.team", "tasks": [{"id": "log", "type": LOG,
                                                                                   "message": "hi"}]}
    base.update(changes)
    return base


def messages(data: Any, target: str) -> list[tuple[str, str]]:
    return [(p.path, p.message) for p in flow_problems(data, target=V(target))]


def notebook(params: str, header: str = "", path: str = "notebooks/nb.ipynb") -> NotebookSource:
    cells: list[tuple[str, str, tuple[str, ...]]] = [("code", "%%flow\n" + header, ("skip-execution",))] if header else []
    cells += [("code", params, ("parameters",)), ("code", "print(1)\n", ())]
    return NotebookSource(path, tuple(Cell(i, CellKind(kind), source, tags)
                                      for i, (kind, source, tags) in enumerate(cells)))


def converted(params: str, target: str, header: str = "") -> Conversion:
    return convert(notebook(params, header), Options(namespace="acme.data", kestra_version=target))


# --- 1. stderr and the WARNING state --------------------------------------------------------------

@pytest.mark.parametrize("target,emitted", [("0.21", True), ("0.22", True), ("0.23", False), ("0.24", False),
                                            ("1.0", False), ("1.3", False), ("2.0", False)])
def test_warning_on_stderr_is_switched_off_only_where_it_exists(target: str, emitted: bool) -> None:
    conv = converted("x = 1\n", target)
    assert conv.ok and conv.document is not None, conv.problems
    (task,) = conv.document["tasks"]
    assert task["type"] == COMMANDS
    assert ("warningOnStdErr" in task) is emitted
    if emitted:
        assert task["warningOnStdErr"] is False
        assert "warningOnStdErr: false" in (conv.text or "")
    # a failing cell still fails the task: papermill exits non-zero and nothing masks its exit code
    # (failFast, i.e. `set -e`, stays on: kestra-io/kestra@58c1ca2d AbstractExecScript.mayAddExitOnErrorCommands)
    assert "failFast" not in task and "interpreter" not in task
    assert not {token for c in [*task["commands"], *task["beforeCommands"]] for token in _shell_words(c)} & {
        "||", ";", "&", "set"}  # no operator outside quotes that could chain past a failure, no `set +e`


def _shell_words(command: str) -> list[str]:
    """The words and operators ``sh`` sees (quoted text, like a ``python -c`` program, is one word)."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    return list(lexer)


def test_every_step_task_of_a_pipeline_follows_the_target() -> None:
    steps = NotebookSource("notebooks/step.ipynb", (Cell(0, CellKind.CODE, "x = 1\n", ("parameters",)),))
    nb = notebook("x = 1\n", "steps:\n  - step.ipynb\n  - parallel: [step.ipynb]\n")
    conv = convert(nb, Options(namespace="acme.data", kestra_version="0.21"), lambda p: steps)
    assert conv.ok and conv.document is not None, conv.problems
    commands = [t for t in conv.document["tasks"] if t["type"] == COMMANDS]
    commands += [c for t in conv.document["tasks"] for c in t.get("tasks", ())]
    assert commands and all(t["warningOnStdErr"] is False for t in commands)


# --- 6. rules that hold on some versions only -------------------------------------------------------

@pytest.mark.parametrize("target", ["0.21", "0.22", "0.23", "0.24"])
def test_reserved_flow_ids_are_free_before_1_0(target: str) -> None:
    assert messages(flow(id="pause"), target) == []


@pytest.mark.parametrize("target", ["1.0", "1.3", "2.0"])
def test_reserved_flow_ids_are_refused_from_1_0(target: str) -> None:
    assert ("id", "'pause' is reserved by Kestra since 1.0") in messages(flow(id="pause"), target)


def test_a_notebook_named_like_a_reserved_id_exports_for_0_21_only() -> None:
    nb = notebook("x = 1\n", path="notebooks/kill.ipynb")
    assert convert(nb, Options(namespace="acme.data", kestra_version="0.21")).ok
    refused = convert(nb, Options(namespace="acme.data", kestra_version="1.3"))
    assert not refused.ok and "reserved" in refused.problems[0].message


@pytest.mark.parametrize("target,ok", [("0.21", False), ("0.22", False), ("0.23", True), ("1.3", True),
                                       ("2.0", True)])
def test_bool_inputs_exist_from_0_23(target: str, ok: bool) -> None:
    data = flow(inputs=[{"id": "b", "type": "BOOL", "defaults": True},
                        {"id": "l", "type": "ARRAY", "itemType": "BOOL", "defaults": [True]}],
                outputs=[{"id": "o", "type": "BOOL", "value": True}])
    found = flow_problems(data, target=V(target))
    if ok:
        assert found == []
    else:
        assert {p.path for p in found} == {"inputs[0].type", "inputs[1].itemType", "outputs[0].type"}
        assert all(p.message == f"type BOOL exists from Kestra 0.23 on; these flows are for Kestra {target}"
                   and p.hint and "BOOLEAN" in p.hint for p in found)
    assert messages(flow(inputs=[{"id": "b", "type": "BOOLEAN", "defaults": True}]), target) == []


def test_a_header_asking_for_bool_is_refused_for_0_21() -> None:
    conv = converted("flag = True\n", "0.21", "inputs:\n  flag: {type: BOOL}\n")
    assert not conv.ok and "exists from Kestra 0.23" in conv.problems[0].message
    assert converted("flag = True\n", "1.3", "inputs:\n  flag: {type: BOOL}\n").ok


@pytest.mark.parametrize("kind", ["io.kestra.plugin.core.flow.ForEach", "io.kestra.plugin.core.flow.ForEachItem"])
def test_foreach_is_refused_for_2_0_only(kind: str) -> None:
    data = flow(tasks=[{"id": "each", "type": kind, "values": ["a"], "tasks": [{"id": "l", "type": LOG,
                                                                                  "message": "x"}]}])
    assert not any(path == "tasks[0].type" for path, _ in messages(data, "1.3"))
    assert ("tasks[0].type", f"{kind.rsplit('.', 1)[1]} was removed in Kestra 2.0") in messages(data, "2.0")


def test_the_same_flow_passes_or_fails_with_the_version_alone() -> None:
    data = flow(id="search", inputs=[{"id": "b", "type": "BOOL", "defaults": False}])
    assert messages(data, "0.21") and messages(data, "1.3") and messages(data, "0.23") == []


# --- 2a. INT is a Java Integer ------------------------------------------------------------------------

@pytest.mark.parametrize("value", [JAVA_INT_MAX + 1, JAVA_INT_MIN - 1, 10**20])
def test_int_defaults_beyond_java_integer_are_refused_with_their_path(value: int) -> None:
    found = flow_problems(flow(inputs=[{"id": "s", "type": "STRING"},
                                       {"id": "big", "type": "INT", "defaults": value, "required": False}]))
    (problem,) = found
    assert problem.path == "inputs[1].defaults" and f"input 'big': default {value}" in problem.message
    assert "Java Integer" in problem.message and problem.hint and "STRING" in problem.hint and "FLOAT" in problem.hint


def test_int_bounds_and_list_items_are_checked_too() -> None:
    data = flow(inputs=[{"id": "n", "type": "INT", "min": JAVA_INT_MIN - 1, "max": JAVA_INT_MAX},
                        {"id": "l", "type": "ARRAY", "itemType": "INT", "defaults": [1, JAVA_INT_MAX + 1]}])
    assert {p.path for p in flow_problems(data)} == {"inputs[0].min", "inputs[1].defaults[1]"}


@pytest.mark.parametrize("value", [JAVA_INT_MAX, JAVA_INT_MIN, 0])
def test_int_defaults_at_the_edges_pass(value: int) -> None:
    assert flow_problems(flow(inputs=[{"id": "n", "type": "INT", "defaults": value}])) == []


def test_a_big_int_in_the_parameters_cell_points_at_its_line() -> None:
    conv = converted("small = 1\nbig = 3_000_000_000  # too big for Kestra\n", "1.3", "description: x\n")
    (problem,) = conv.problems
    assert problem.path == "inputs[1].defaults" and "3000000000" in problem.message
    assert (problem.cell, problem.line) == (1, 2)  # the parameters cell, the parameter's line


def test_run_parameters_beyond_java_integer_are_refused() -> None:
    conv = converted("n: int = 1\nl: list[int] = [1]\n", "1.3")
    assert conv.ok and conv.flow is not None
    inputs = conv.flow.inputs
    values, problems = coerce_parameters(inputs, {"n": TextValue(str(JAVA_INT_MAX))})
    assert problems == [] and values == {"n": JAVA_INT_MAX}
    _, problems = coerce_parameters(inputs, {"n": TextValue("2147483648"), "l": [1, -(2**40)]})
    assert {p.path for p in problems} == {"n", "l"}
    assert all("outside Kestra's INT range" in p.message for p in problems)


# --- 2b. Pebble in defaults -------------------------------------------------------------------------

# A renderer of just what reaches Kestra's Pebble from an escaped default, written from Kestra's source:
# kestra-io/kestra core/src/main/java/io/kestra/core/runners/VariableRenderer.java (0.21 @ 58c1ca2d, and the
# same steps in 1.x): render() returns a text without '{' as is; renderOnce() sets one-line
# {% raw %}…{% endraw %} blocks (RAW_PATTERN, Java regex: '.' stops at line terminators) aside, lets Pebble
# evaluate the rest, and puts them back; render() then strips every raw block's tags from the result.
# Pebble (pebbletemplates/pebble LexerImpl, default delimiters {{ }}, {% %}, {# #}) prints plain text as is;
# the only tag an escaped default holds is a print tag of a single-quoted string literal, printed as its text.
# Any other tag means Pebble would evaluate something: an error here.
_JAVA_SPACE, _JAVA_DOT = r"[ \t\n\x0b\f\r]", "[^\n\r\u0085\u2028\u2029]"
_RAW = re.compile(rf"(\{{%-*{_JAVA_SPACE}*raw{_JAVA_SPACE}*-*%}}({_JAVA_DOT}*?)\{{%-*{_JAVA_SPACE}*endraw"
                  rf"{_JAVA_SPACE}*-*%}})")
_OPEN = re.compile(r"\{[{%#]")
_PRINT_LITERAL = re.compile(r"\{\{ '([^'\\]*)' \}\}")


def _pebble(template: str) -> str:
    out, at = [], 0
    while (tag := _OPEN.search(template, at)) is not None:
        literal = _PRINT_LITERAL.match(template, tag.start())
        if literal is None:
            raise ValueError(f"Pebble would evaluate {template[tag.start():tag.start() + 20]!r}")
        out += [template[at:tag.start()], literal.group(1)]
        at = literal.end()
    return "".join(out) + template[at:]


def kestra_render(text: str) -> str:
    if "{" not in text:
        return text
    stash: dict[str, str] = {}

    def aside(match: re.Match[str]) -> str:
        key = str(uuid.uuid4())
        stash[key] = match.group(1)
        return key

    result = _pebble(_RAW.sub(aside, text))
    for key, block in stash.items():
        result = result.replace(key, block)
    return _RAW.sub(lambda m: m.group(2), result)


def test_the_renderer_is_faithful_to_what_it_models() -> None:
    with pytest.raises(ValueError):
        kestra_render("Hello {{ name }}")  # unescaped: Pebble would look the variable up
    assert kestra_render("a {% raw %}{{ x }}{% endraw %} b") == "a {{ x }} b"  # Kestra's own escape
    assert kestra_render("}} %} #} plain") == "}} %} #} plain"


_PEBBLE_TEXT = st.text(st.sampled_from(list("{}%#-' \n\"\\abc\u2028")) | st.characters(), max_size=40) | \
    st.lists(st.sampled_from(["{{", "{%", "{#", "}}", "%}", "raw", "endraw", " ", "\n", "'", "x"]),
             max_size=12).map("".join)


@settings(max_examples=500, deadline=None)
@given(_PEBBLE_TEXT)
def test_escaped_text_renders_back_to_itself(text: str) -> None:
    if unrepresentable(text):
        return
    assert kestra_render(escape(text)) == text


@settings(max_examples=300, deadline=None)
@given(_PEBBLE_TEXT)
def test_unescape_undoes_escape_and_nothing_else(text: str) -> None:
    assert unescape(escape(text)) == text
    if escape(text) != text:  # a text holding a delimiter is a template, not an escaped default
        assert unescape(text) == text or escape(unescape(text)) == text


@pytest.mark.parametrize("dynamic", ["{{ now() }}", "{{ '{{' }}{{ now() }}", "{{ '{{' }}x{% if a %}"])
def test_dynamic_defaults_are_not_unescaped(dynamic: str) -> None:
    assert unescape(dynamic) == dynamic


def test_a_raw_block_on_one_line_is_what_no_escape_can_carry() -> None:
    text = "a {% raw %}x{% endraw %}"
    assert unrepresentable(text) and kestra_render(escape(text)) != text
    assert not unrepresentable("{% raw %}\n{% endraw %}")


PEBBLE_PARAMS = ('greeting = "Hello {{ name }}!"  # not a template\n'
                 'note = """line {% if x %}\nand {# comment #} {{{"""\n'
                 'plain = "no braces"\n'
                 "tags = ['{{ a }}', 'b']\n"
                 "conf = {'{{k}}': '{%v%}'}\n")
WRITTEN = {"greeting": "Hello {{ name }}!", "note": "line {% if x %}\nand {# comment #} {{{", "plain": "no braces",
           "tags": ["{{ a }}", "b"], "conf": '{"{{k}}": "{%v%}"}'}


@pytest.mark.parametrize("target", ["1.0", "1.3", "2.0"])
def test_pebble_looking_defaults_are_escaped_from_1_0_and_render_back_exactly(target: str) -> None:
    conv = converted(PEBBLE_PARAMS, target)
    assert conv.ok and conv.document is not None and conv.flow is not None, conv.problems
    emitted = {i["id"]: i["defaults"] for i in conv.document["inputs"]}
    assert emitted["greeting"] == "Hello {{ '{{' }} name }}!" and emitted["plain"] == "no braces"
    rendered = {name: [kestra_render(v) for v in value] if isinstance(value, list) else kestra_render(value)
                for name, value in emitted.items()}
    assert rendered == WRITTEN
    # the model (what nbops run passes) keeps the text as written
    assert {i.id: i.defaults for i in conv.flow.inputs} == WRITTEN
    assert conv.text is not None and "{{ '{{' }} name }}" in conv.text


@pytest.mark.parametrize("target", ["0.21", "0.23", "0.24"])
def test_defaults_are_emitted_as_written_before_1_0(target: str) -> None:
    conv = converted(PEBBLE_PARAMS, target)
    assert conv.ok and conv.document is not None
    assert {i["id"]: i["defaults"] for i in conv.document["inputs"]} == WRITTEN


def test_a_default_no_escape_can_carry_is_refused_from_1_0() -> None:
    params = 'tpl = "{% raw %}x{% endraw %}"\n'
    (problem,) = converted(params, "1.3").problems
    assert problem.path == "inputs.tpl" and "raw" in problem.message and problem.cell == 0
    assert converted(params, "0.24").ok


def test_raw_kestra_inputs_in_the_header_are_left_alone() -> None:
    conv = converted('x = "a"\n', "1.3", "kestra:\n  inputs:\n    - {id: x, type: STRING, defaults: '{{ now() }}'}\n")
    assert conv.ok and conv.document is not None
    assert conv.document["inputs"][0]["defaults"] == "{{ now() }}"  # a dynamic default, on purpose


# --- 2c. triggered executions need every required input --------------------------------------------

@pytest.mark.parametrize("target", ["0.21", "1.3", "2.0"])
def test_after_with_a_required_input_without_default_is_refused(target: str) -> None:
    conv = converted("region: str\n", target, "after: acme.data.load\n")
    (problem,) = conv.problems
    assert problem.path == "triggers[0]" and "Flow trigger" in problem.message and "'region'" in problem.message
    assert problem.hint and "parameters cell" in problem.hint and "Optional" in problem.hint
    assert (problem.cell, problem.line) == (0, 2)  # the header's after: line


@pytest.mark.parametrize("params", ["region = 'eu'\n", "from typing import Optional\nregion: Optional[str] = None\n",
                                    "region: str | None\n"])
def test_after_with_defaults_or_optional_inputs_exports(params: str) -> None:
    assert converted(params, "1.3", "after: acme.data.load\n").ok


def test_schedule_is_handled_the_same_way() -> None:
    conv = converted("region: str\n", "1.3", "schedule: '0 6 * * *'\n")
    (problem,) = conv.problems
    assert "Schedule trigger" in problem.message and "'region'" in problem.message


def test_a_trigger_that_sets_the_input_is_fine() -> None:
    data = flow(inputs=[{"id": "r", "type": "STRING"}],
                triggers=[{"id": "up", "type": "io.kestra.plugin.core.trigger.Flow", "inputs": {"r": "eu"},
                           "preconditions": {"id": "p", "flows": [{"namespace": "a", "flowId": "b"}]}},
                          {"id": "w", "type": "io.kestra.plugin.core.trigger.Webhook", "key": "k"}])
    assert flow_problems(data) == []
    data["triggers"][0]["inputs"] = {}
    assert [p.path for p in flow_problems(data)] == ["triggers[0]"]


def test_every_supported_version_validates_the_example_shape() -> None:
    for target in SUPPORTED:
        conv = convert(notebook("x = 1\nname = 'a'\n", "schedule: '0 6 * * *'\n"),
                       Options(namespace="acme.data", kestra_version=str(target)))
        assert conv.ok, (target, conv.problems)
        assert isinstance(target, KestraVersion) and conv.flow is not None
        assert conv.flow.inputs[0].type is InputType.INT
