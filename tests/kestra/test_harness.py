"""The replay harness's own pieces, each against a fact read in Kestra's (or the JDK's) source.

Sources are named as in ``replay/``'s README: ``K@58c1ca2d`` is kestra-io/kestra 0.21.0-SNAPSHOT.
"""
from __future__ import annotations

import math
import subprocess
import zipfile
from pathlib import Path

import pytest
import replay as r
from conftest import ROOT

ROOT_NAMESPACE = "nbops.examples"


# ---------------------------------------------------------------- namespace files: PathMatcherPredicate + Java globs

def test_patterns_get_the_recursive_prefix_kestras_tests_show() -> None:
    # K@58c1ca2d core/src/test/java/io/kestra/core/utils/PathMatcherPredicateTest.java:18-50
    assert r.kestra_pattern("glob:**/*") == "glob:**/*"
    assert r.kestra_pattern("regex:.*\\.json") == "regex:.*\\.json"
    assert r.kestra_pattern("test.txt") == "glob:**/test.txt"
    assert r.kestra_pattern("**/*") == "glob:**/*"
    assert r.kestra_pattern("**/*", base="/sub/dir") == "glob:/sub/dir/**/*"
    assert r.kestra_pattern("/**/*", base="/sub/dir") == "glob:/sub/dir/**/*"
    # PathMatcherPredicate.java:111-112: "\\w+[\\s\\S]*" -- an underscore is a word character, a dot is not
    assert r.kestra_pattern("_extract.ipynb") == "glob:**/_extract.ipynb"
    assert r.kestra_pattern(".hidden") == "glob:.hidden"
    assert r.kestra_pattern("a\\b") == "glob:**/a/b"  # line 102: backslashes become slashes


def test_paths_match_as_in_kestras_tests() -> None:
    paths = ["/base/test.txt", "/base/sub/dir/test.txt"]
    # PathMatcherPredicateTest.java:52-83
    assert [p for p in paths if r.path_matcher(["**/*.txt"])(p)] == paths
    assert [p for p in paths if r.path_matcher(["test.txt"])(p)] == paths
    assert [p for p in paths if r.path_matcher(["test.txt"], base="/base")(p)] == ["/base/test.txt"]
    # PathMatcherPredicateTest.java:85-111
    keep = r.include_exclude(["/a/**", "c/**"], ["**/2"])
    assert {p for p in ("/a/b/c/1", "/a/2", "/b/c/d/3", "/b/d/4", "/c/5") if keep(p)} == {"/a/b/c/1", "/b/c/d/3",
                                                                                            "/c/5"}


def test_namespace_files_are_matched_with_a_leading_slash() -> None:
    # InternalNamespace.findAllFilesMatching tests NamespaceFile.path(true) (K@58c1ca2d InternalNamespace.java:112-114)
    files = {p: Path() for p in ("/a.csv", "/data/a.csv", "/data/sub/b.csv", "/x/data/c.csv", "/nb.ipynb")}
    assert r.matching_namespace_files(files, ["data/*.csv"], None) == ["/data/a.csv", "/x/data/c.csv"]
    assert r.matching_namespace_files(files, ["/data/*.csv"], None) == ["/data/a.csv"]
    assert r.matching_namespace_files(files, ["*.csv"], None) == []  # no **/ in front, and '*' never crosses '/'
    assert r.matching_namespace_files(files, ["**.csv"], None) == ["/a.csv", "/data/a.csv", "/data/sub/b.csv",
                                                                   "/x/data/c.csv"]
    assert r.matching_namespace_files(files, ["data/**"], ["**/sub/**"]) == ["/data/a.csv", "/x/data/c.csv"]
    assert r.matching_namespace_files(files, None, None) == list(files)  # no include: every file


def test_java_glob_rules() -> None:
    # JDK sun/nio/fs/Globs.java toRegexPattern: ? [..] [!..] {a,b} and '/' never inside a class
    match = r.path_matcher
    assert match(["/?.csv"])("/a.csv") and not match(["/?.csv"])("/ab.csv")
    assert match(["/[ab].csv"])("/b.csv") and not match(["/[ab].csv"])("/c.csv")
    assert match(["/[!ab].csv"])("/c.csv") and not match(["/[!ab].csv"])("/a.csv")
    assert match(["/[a-c]x"])("/bx") and not match(["/[a-c]x"])("/dx")
    assert match(["/{a,b}.csv"])("/b.csv") and not match(["/{a,b}.csv"])("/c.csv")
    assert not match(["/a[+-0]b"])("/a/b")  # a range spanning '/' still never matches it
    with pytest.raises(r.GlobSyntaxError):
        r.java_glob_regex("a{b")
    with pytest.raises(r.GlobSyntaxError):
        r.java_glob_regex("a[/]")


def test_each_namespace_has_the_files_of_its_folder() -> None:
    # gitops_flow.py: SyncNamespaceFiles copies notebooks/<child path> into <root>.<child>, the whole tree
    root = r.namespace_files(ROOT, ROOT_NAMESPACE)
    pipeline = r.namespace_files(ROOT, ROOT_NAMESPACE + ".pipeline")
    assert "/sales_report.ipynb" in root and "/pipeline/_extract.ipynb" in root  # the root's tree holds the children
    assert "/_extract.ipynb" in pipeline and "/sales_report.ipynb" not in pipeline
    assert r.matching_namespace_files(root, ["sales_report.ipynb", "data/sales.csv"], None) == [
        "/data/sales.csv", "/sales_report.ipynb"]


# ---------------------------------------------------------------- Java numbers as Jackson writes them

@pytest.mark.parametrize(("value", "text"), [
    (12345678.5, "1.23456785E7"), (1e7, "1.0E7"), (9999999.0, "9999999.0"), (100.0, "100.0"), (0.1, "0.1"),
    (0.001, "0.001"), (0.0009, "9.0E-4"), (1e-7, "1.0E-7"), (-2.5, "-2.5"), (0.0, "0.0"), (-0.0, "-0.0"),
    (1234567.125, "1234567.125"), (2e23, "2.0E23"),
    (5e-324, "4.9E-324"),  # Double.MIN_VALUE's documented text (JDK 19+ picks the closer two-digit decimal)
    (1.7976931348623157e308, "1.7976931348623157E308"),  # Double.MAX_VALUE
    (math.nan, "NaN"), (math.inf, "Infinity"), (-math.inf, "-Infinity"),
])
def test_doubles_are_written_as_java_does(value: float, text: str) -> None:
    # Jackson writes a double with Double.toString (JacksonMapper enables no number feature, K@58c1ca2d
    # core/.../serializers/JacksonMapper.java:123-138): E notation from 1e7 up and below 1e-3
    assert r.java_double_to_string(value) == text


@pytest.mark.parametrize(("decimal", "text"), [
    ("12345678.5", "1.2345678E7"),  # a FLOAT input is a java.lang.Float: 24 bits, 12345678.5 rounds to 12345678
    ("0.1", "0.1"), ("3.0", "3.0"), ("16777217", "1.6777216E7"), ("1.4E-45", "1.4E-45"),
    ("3.4028235E38", "3.4028235E38"), ("0.123456789", "0.12345679"), ("1e40", "Infinity"),
])
def test_floats_are_32_bit_java_floats(decimal: str, text: str) -> None:
    # FloatInput extends Input<Float>; parseType: Float.valueOf (K@58c1ca2d FlowInputOutput.java:413)
    assert r.java_float_to_string(r.java_parse_float(decimal)) == text


def test_jackson_json_text() -> None:
    value = {"a": 1, "b": [True, None, 1.5, 1e7], "s": 'é"\\\n\x01', "f": r.JFloat(r.java_parse_float("0.1"))}
    assert r.jackson_dumps(value) == '{"a":1,"b":[true,null,1.5,1.0E7],"s":"é\\"\\\\\\n\\u0001","f":0.1}'
    assert r.jackson_dumps(math.nan) == '"NaN"'  # WRITE_NAN_AS_STRINGS is on by default
    assert r.round_trip(r.JFloat(r.java_parse_float("12345678.5"))) == 12345678.0
    assert r.round_trip(r.JDuration(1800, 0)) == 1800.0  # durations are stored as numbers (Property.java)
    assert r.jackson_loads('{"a": 1} trailing') == {"a": 1}  # FAIL_ON_TRAILING_TOKENS is off
    for refused in ('{"a": NaN}', '{"a": Infinity}', '{"a": -Infinity}', '{"a": 01}', '{"a": "\x01"}'):
        with pytest.raises(ValueError):
            r.jackson_loads(refused)


# ---------------------------------------------------------------- inputs: Kestra's types, defaults, Pebble in defaults

def _flow(inputs: list[dict]) -> dict:
    return {"id": "f", "namespace": "acme.data", "inputs": inputs, "tasks": []}


VARS = {"flow": {"id": "f", "namespace": "acme.data"}, "execution": {"id": "e1"}}


@pytest.mark.parametrize("version", ["0.21", "1.3"])
def test_input_values_are_kestras_java_types_through_json(version: str) -> None:
    flow = _flow([{"id": "big", "type": "FLOAT", "defaults": 12345678.5},
                  {"id": "n", "type": "INT", "defaults": 5},
                  {"id": "day", "type": "DATE", "defaults": "2024-01-01"},
                  {"id": "flag", "type": "BOOLEAN", "defaults": True},
                  {"id": "wait", "type": "DURATION", "defaults": "PT30M"},
                  {"id": "opt", "type": "DATE", "required": False},
                  {"id": "obj", "type": "JSON", "defaults": '{"k": [1, 2.5]}'}])
    inputs = r.resolve_inputs(flow, {}, version, VARS)
    assert inputs == {"big": 12345678.0, "n": 5, "day": "2024-01-01", "flag": True, "wait": 1800.0, "opt": None,
                      "obj": {"k": [1, 2.5]}}
    template = "{" + ", ".join(f'"{k}": {{{{ inputs.{k} | toJson }}}}' for k in inputs) + "}"
    assert r.render(template, {"inputs": inputs}) == (
        '{"big": 1.2345678E7, "n": 5, "day": "2024-01-01", "flag": true, "wait": 1800.0, "opt": null, '
        '"obj": {"k":[1,2.5]}}')


@pytest.mark.parametrize("version", ["0.21", "1.3"])
def test_inputs_kestra_refuses(version: str) -> None:
    # INT is a java.lang.Integer (IntInput extends Input<Integer>); a missing required input has no default
    for inputs in ([{"id": "n", "type": "INT", "defaults": 3_000_000_000}], [{"id": "n", "type": "STRING"}],
                   [{"id": "n", "type": "INT", "defaults": 5, "max": 4}],
                   [{"id": "s", "type": "SELECT", "defaults": "x", "values": ["a", "b"]}]):
        with pytest.raises(r.InputError):
            r.resolve_inputs(_flow(inputs), {}, version, VARS)


def test_defaults_are_pebble_from_1_0() -> None:
    # K-1.x FlowInputOutput.resolveDefaultValue renders the default (Property.as); 0.21 takes it as written
    flow = _flow([{"id": "s", "type": "STRING", "defaults": "{{ flow.id }}-x"},
                  {"id": "raw", "type": "STRING", "defaults": "{% raw %}{{ kept }}{% endraw %}"}])
    assert r.resolve_inputs(flow, {}, "1.3", VARS) == {"s": "f-x", "raw": "{{ kept }}"}
    assert r.resolve_inputs(flow, {}, "0.21", VARS) == {"s": "{{ flow.id }}-x",
                                                        "raw": "{% raw %}{{ kept }}{% endraw %}"}
    with pytest.raises(r.RenderError):  # strict variables: the execution cannot be created
        r.resolve_inputs(_flow([{"id": "s", "type": "STRING", "defaults": "{{ user }}"}]), {}, "1.3", VARS)
    given = r.resolve_inputs(_flow([{"id": "s", "type": "STRING", "defaults": "d"}]), {"s": "{{ x }}"}, "1.3", VARS)
    assert given == {"s": "{{ x }}"}  # a value given to the execution is never rendered


# ---------------------------------------------------------------- Pebble as Kestra renders the templates nbops emits

def test_the_emitted_templates_render_as_kestra_renders_them() -> None:
    # the shapes nbops emits (core/tasks.py params_template, output_file_ref), written out so that a change of
    # the emitter does not change what this test checks
    flow = _flow([{"id": "region", "type": "SELECT", "defaults": "all", "values": ["all", "north"]},
                  {"id": "start_date", "type": "DATE", "defaults": "2024-01-01"},
                  {"id": "top_n", "type": "INT", "defaults": 5, "min": 1},
                  {"id": "rate", "type": "FLOAT", "defaults": 0.5},
                  {"id": "note", "type": "STRING", "defaults": 'a "quoted"\nline é'}])
    inputs = r.resolve_inputs(flow, {}, "1.3", VARS)
    params = ('{"region": {{ inputs.region | toJson }}, "start_date": {{ inputs.start_date | toJson }}, '
              '"top_n": {{ inputs.top_n | toJson }}, "rate": {{ inputs.rate | toJson }}, '
              '"note": {{ inputs.note | toJson }}, "n": {{ outputs.extract.vars.n | toJson }}}')
    text = r.render(params, {"inputs": inputs, "outputs": {"extract": {"vars": {"n": 1e7}}}})
    assert text == ('{"region": "all", "start_date": "2024-01-01", "top_n": 5, "rate": 0.5, '
                    '"note": "a \\"quoted\\"\\nline é", "n": 1.0E7}')
    outputs = {"extract": {"outputFiles": {"output/extracted.csv": "kestra:///a/b/x-extracted.csv"}, "vars": {"n": 1e7}}}
    assert r.render("{{ outputs.extract.outputFiles['output/extracted.csv'] }}", {"outputs": outputs}) == \
        "kestra:///a/b/x-extracted.csv"
    assert r.render('{{ outputs.extract.vars.n }}|{{ outputs.extract.vars | toJson }}', {"outputs": outputs}) == \
        '1.0E7|{"n":1.0E7}'  # JsonWriter prints a double as Java does, a map as JSON


def test_pebble_strictness_raw_and_gaps() -> None:
    variables = {"inputs": {"a": None, "s": 'x"y'}}
    with pytest.raises(r.RenderError):
        r.render("{{ inputs.nope }}", variables)  # strictVariables(true), VariableRenderer.java:38
    assert r.render("{{ inputs.a }}|{{ inputs.a | toJson }}|{{ inputs.s | toJson }}", variables) == '|null|"x\\"y"'
    assert r.render("{{ inputs.nope ?? 'd' }}", variables) == "d"
    assert r.render("a {% raw %}{{ x }}{% endraw %} b", variables) == "a {{ x }} b"
    assert r.render("{% raw %}\n{{ x }}\n{% endraw %}", variables) == "\n{{ x }}\n"  # multi-line: Pebble's raw tag
    assert r.render("plain text", {}) == "plain text"  # no '{': no rendering (VariableRenderer.java:84-87)
    assert r.render("  {{- inputs.s -}}  !", variables) == 'x"y!'
    for gap in ("{{ a + b }}", "{% if x %}y{% endif %}", "{{ x | upper }}", '{{ "#{x}" }}'):
        with pytest.raises(r.NotEmulated):
            r.render(gap, {"a": 1, "b": 2, "x": "x"})


# ---------------------------------------------------------------- outputs lines

def test_outputs_lines_are_read_as_kestra_reads_them() -> None:
    # PluginUtilsService.java:36,170-212: ^::(\{.*})::$ then Jackson; a refused line is lost whole
    assert r.parse_output_line('::{"outputs": {"x": 1, "y": [1.5, "s"]}}::') == {"x": 1, "y": [1.5, "s"]}
    assert r.parse_output_line('::{"outputs": {"x": NaN, "y": 2}}::') is None
    assert r.parse_output_line('::{"outputs": {"x": Infinity}}::') is None
    assert r.parse_output_line('::{"outputs": {"x": -Infinity}}::') is None
    assert r.parse_output_line('::{"outputs": {"a": 1}} {"b": 2}::') == {"a": 1}  # trailing tokens ignored
    assert r.parse_output_line('::{"outputs": {"a": 1}}::\r') == {"a": 1}  # '$' before a final line terminator
    assert r.parse_output_line(' ::{"outputs": {"a": 1}}::') is None
    assert r.parse_output_line('::{"outputs": [1]}::') is None
    assert r.parse_output_line('::{"metrics": [{"type": "counter", "name": "n", "value": 1}]}::') == {}
    assert r.parse_output_line("print me") is None
    # Docker.java:149,433-470: lines are runs of non-newline characters; a CR stays on its line
    assert r.log_lines("a\n\nb\r\nc") == ["a", "b\r", "c"]


# ---------------------------------------------------------------- the Flow trigger

def _execution(namespace: str, flow_id: str, state: str) -> r.ExecutionResult:
    return r.ExecutionResult(flow_id, namespace, r.Version(1, 3), state, {}, {}, {})


def test_the_flow_trigger_follows_its_states_and_preconditions() -> None:
    upstream = {"namespace": "nbops.examples.ingest", "flowId": "load_sales", "states": ["SUCCESS"]}
    weekly = {"triggers": [{"id": "schedule", "type": "io.kestra.plugin.core.trigger.Schedule", "cron": "0 7 * * 1"},
                           {"id": "upstream", "type": "io.kestra.plugin.core.trigger.Flow",  # as nbops emits `after:`
                            "preconditions": {"id": "upstream", "flows": [upstream]}}]}
    fires = lambda state, flow_id=upstream["flowId"]: r.flow_trigger_fires(
        weekly, _execution(upstream["namespace"], flow_id, state))
    assert fires("SUCCESS") == ["upstream"]
    assert fires("WARNING") == [] and fires("FAILED") == []  # states: [SUCCESS]
    assert fires("SUCCESS", "other") == []
    bare = {"triggers": [{"id": "t", "type": "io.kestra.plugin.core.trigger.Flow",
                          "preconditions": {"id": "p", "flows": [{"namespace": "a", "flowId": "b"}]}}]}
    assert r.flow_trigger_fires(bare, _execution("a", "b", "FAILED")) == ["t"]  # default: every terminal state
    assert r.flow_trigger_fires(bare, _execution("a", "b", "RUNNING")) == []


# ---------------------------------------------------------------- the fake image and the Commands task (processes)

@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "notebooks" / "data").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[tool.nbops]\nnamespace = "acme.data"\n')
    (root / "notebooks" / "data" / "a.csv").write_text("x\n1\n")
    return root


def _commands(**task: object) -> dict:
    return {"id": "t", "type": "io.kestra.plugin.scripts.python.Commands", **task}


def _run(project: Path, tmp_path: Path, version: str, *tasks: dict, outputs: list | None = None,
         inputs: list | None = None, image: r.FakeImage | None = None) -> r.ExecutionResult:
    flow = {"id": "f", "namespace": "acme.data", "tasks": list(tasks), "inputs": inputs or []}
    if outputs is not None:
        flow["outputs"] = outputs
    return r.replay(flow, project_root=project, version=version, work=tmp_path / f"work-{version}", image=image)


@pytest.mark.slow
def test_the_fake_image_has_no_nbops_and_installs_nothing(tmp_path: Path) -> None:
    image = r.default_image()
    env = image.environment(tmp_path / "container")
    probe = subprocess.run([str(image.python), "-c", "import kernel_ext"], env=env, cwd=tmp_path, capture_output=True,
                           text=True, check=False)
    assert probe.returncode != 0 and "No module named 'kernel_ext'" in probe.stderr
    pip = lambda *args: subprocess.run(["pip", *args], env=env, cwd=tmp_path, capture_output=True,
                                       text=True, check=False)
    missing = pip("install", "--quiet", "nbops")
    assert missing.returncode == 1 and "No matching distribution found for nbops" in missing.stderr
    assert pip("install", "--quiet", "papermill", "ipykernel").returncode == 0
    assert pip("install", "papermill<1").returncode == 1
    assert pip("download", "x").returncode == 97 and r.NOT_EMULATED_MARK in pip("download", "x").stderr


@pytest.mark.slow
def test_commands_run_as_one_sh_script_with_set_e(project: Path, tmp_path: Path) -> None:
    # AbstractExecScript/CommandsWrapper: "set -e" first, then beforeCommands and commands joined by newlines
    result = _run(project, tmp_path, "1.3", _commands(beforeCommands=["echo before"],
                                                      commands=["echo one", "false", "echo never"]))
    run = result.task_runs["t"]
    assert result.state == "FAILED" and run.exit_code == 1
    assert run.script == ["/bin/sh", "-c", "set -e\necho before\necho one\nfalse\necho never"]
    assert run.stdout.split() == ["before", "one"]
    relaxed = _run(project, tmp_path / "b", "1.3", _commands(failFast=False, commands=["false", "echo last"]))
    assert relaxed.state == "SUCCESS" and relaxed.task_runs["t"].stdout.split() == ["last"]


@pytest.mark.slow
def test_stderr_makes_warning_only_before_0_23(project: Path, tmp_path: Path) -> None:
    task = _commands(commands=["echo oops >&2"])
    assert _run(project, tmp_path, "0.21", task).state == "WARNING"
    assert _run(project, tmp_path, "0.22", task).state == "WARNING"
    assert _run(project, tmp_path, "0.21", {**task, "warningOnStdErr": False}).state == "SUCCESS"
    assert _run(project, tmp_path, "0.23", task).state == "SUCCESS"
    assert _run(project, tmp_path, "1.3", task).state == "SUCCESS"


@pytest.mark.slow
def test_files_outputs_and_flow_outputs(project: Path, tmp_path: Path) -> None:
    first = _commands(id="first", namespaceFiles={"enabled": True, "include": ["data/*.csv"]},
                      inputFiles={"p.json": "{{ inputs.x | toJson }}"},
                      commands=["mkdir out", "cp data/a.csv out/a.csv", "cat p.json", "echo",
                                """echo '::{"outputs": {"n": 3, "lost": 1}}::'""",
                                """echo '::{"outputs": {"lost": NaN, "m": 4}}::'""",
                                """echo '::{"outputs": {"late": "stderr"}}::' >&2"""],
                      outputFiles=["out/*.csv"])
    second = _commands(id="second", inputFiles={"in.csv": "{{ outputs.first.outputFiles['out/a.csv'] }}"},
                       commands=["cat in.csv", "ls"])
    outputs = [{"id": "n", "type": "INT", "value": "{{ outputs.first.vars.n }}"},
               {"id": "big", "type": "FLOAT", "value": "{{ inputs.x }}"}]
    result = _run(project, tmp_path, "1.3", first, second, outputs=outputs,
                  inputs=[{"id": "x", "type": "FLOAT", "defaults": 0.1234567891}])
    assert result.state == "SUCCESS", result.summary()
    one, two = result.task_runs["first"], result.task_runs["second"]
    assert one.stdout.splitlines()[0] == "0.12345679"  # the Float the FLOAT input is, as toJson writes it
    assert one.vars == {"n": 3, "lost": 1, "late": "stderr"}  # the NaN line is lost whole; stderr lines count too
    assert list(one.output_files) == ["out/a.csv"] and two.stdout.split()[:2] == ["x", "1"]
    assert result.outputs == {"n": 3, "big": 0.12345679}
    lost = _run(project, tmp_path / "b", "1.3", first, outputs=[{"id": "m", "type": "INT",
                                                                 "value": "{{ outputs.first.vars.m }}"}],
                inputs=[{"id": "x", "type": "FLOAT", "defaults": 1.0}])
    assert lost.state == "FAILED" and lost.outputs is None and "Failed to render output values" in lost.error
    typed = _run(project, tmp_path / "c", "1.3", _commands(commands=["""echo '::{"outputs": {"n": 2.0}}::'"""]),
                 outputs=[{"id": "n", "type": "INT", "value": "{{ outputs.t.vars.n }}"}])
    assert typed.state == "FAILED"  # "2.0" is no Integer: typedOutputs fails, so does the execution


@pytest.mark.slow
def test_a_failed_task_ends_the_execution_after_its_parallel_group(project: Path, tmp_path: Path) -> None:
    parallel = {"id": "group", "type": "io.kestra.plugin.core.flow.Parallel",
                "tasks": [_commands(id="bad", commands=["exit 3"]), _commands(id="good", commands=["true"])]}
    result = _run(project, tmp_path, "1.3", parallel, _commands(id="after", commands=["true"]))
    assert result.state == "FAILED"
    assert {k: v.state for k, v in result.task_runs.items()} == {"bad": "FAILED", "good": "SUCCESS"}
    retried = _run(project, tmp_path / "b", "1.3",
                   _commands(commands=["test -f ../marker || { touch ../marker; exit 1; }"],
                             retry={"type": "constant", "maxAttempt": 2, "interval": "PT1M"}))
    assert retried.state == "SUCCESS" and retried.task_runs["t"].attempts == 2
    timed = _run(project, tmp_path / "c", "1.3", _commands(commands=["sleep 30"], timeout="PT1S"))
    assert timed.state == "FAILED" and "timeout" in timed.task_runs["t"].error


def test_what_the_harness_does_not_emulate_is_an_error(project: Path, tmp_path: Path) -> None:
    unbuilt = r.FakeImage(tmp_path / "never-built")  # refused before anything runs
    for version, task in (("1.3", _commands(commands=["true"], allowFailure=True)),
                          ("0.21", _commands(commands=["true"], dependencies=["pandas"])),  # plugin-scripts ≥0.23
                          ("1.3", {"id": "x", "type": "io.kestra.plugin.core.flow.ForEach", "values": [1]}),
                          ("1.3", _commands(commands=["true"], taskRunner={"type": "io.kestra.plugin.ee.k8s.Kube"}))):
        with pytest.raises(r.NotEmulated):
            _run(project, tmp_path, version, task, image=unbuilt)


@pytest.mark.slow
def test_a_flow_can_ship_its_own_python_code(project: Path, tmp_path: Path) -> None:
    # a module shipped as a namespace file is importable from the working directory; a pure-Python wheel
    # shipped with the flow is "installed" into the task's own container, which the next task does not share
    (project / "notebooks" / "kernel_ext").mkdir()
    (project / "notebooks" / "kernel_ext" / "__init__.py").write_text("SHIPPED = True\n")
    wheel = project / "notebooks" / "tiny-0.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("tiny/__init__.py", "VALUE = 1\n")
        archive.writestr("tiny-0.1.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n")
        archive.writestr("tiny-0.1.dist-info/METADATA", "Metadata-Version: 2.1\nName: tiny\nVersion: 0.1\n")
    shipped = _commands(id="shipped", namespaceFiles={"include": ["kernel_ext/**", "tiny*.whl"]},
                        beforeCommands=["pip install --quiet tiny-0.1-py3-none-any.whl"],
                        commands=["python -c 'import kernel_ext, tiny; assert kernel_ext.SHIPPED and tiny.VALUE'"])
    result = _run(project, tmp_path, "1.3", shipped)
    assert result.state == "SUCCESS", result.summary()
    other = _run(project, tmp_path / "b", "1.3", shipped,
                 _commands(id="other", commands=["python -c 'import tiny'"]))
    assert other.task_runs["other"].state == "FAILED" and "No module named 'tiny'" in other.task_runs["other"].stderr
