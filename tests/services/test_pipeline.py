"""The pipeline a conversion carries: the Kestra tasks say exactly what it says, ``nbops run`` follows
it without converting again, and a flow id is found from ``%%flow`` cells alone."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import ROOT, Repo
from kernel_ext.adapters.project import Project, find_project
from kernel_ext.core.pipeline import Pipeline, PipelineStep
from kernel_ext.core.tasks import PARALLEL, PARAMS_FILE, REQUIREMENTS_FILE, RUNTIME_FILE, input_source, output_source
from kernel_ext.errors import InvalidError, NbopsError
from kernel_ext.services.project_flows import convert_notebook
from kernel_ext.services.run import prepare, resolve_notebook

_PARAM = re.compile(r'"(\w+)": \{\{ (\(\S+ \?\? null\)|\S+) \| toJson \}\}')
_FILE_REF = re.compile(r"^\{\{ outputs\.(\w+)\.outputFiles\['(.+)'\] \}\}$")


def made_up_pipeline(repo: Repo) -> Path:
    """Parallel groups (one of a single step), outputs feeding later parameters, produced files, a
    notebook run twice (so its second task id is made unique), files, retry and timeout."""
    header = ("retry: {type: constant, maxAttempt: 2, interval: PT1S}\ntimeout: PT1M\nfiles: [d/*.csv]\nsteps:\n"
              "  - parallel:\n      - {notebook: _p.ipynb, outputs: [a, b], produces: [p.txt]}\n"
              "  - parallel:\n      - {notebook: _q.ipynb, outputs: [c]}\n"
              "      - {notebook: _r.ipynb, produces: [r.txt]}\n"
              "  - _p.ipynb\n  - {notebook: _r.ipynb, produces: [r2.txt]}\n")
    main = repo.nb("x/main.ipynb", header, params="a = 1\nz = 2\n")
    repo.nb("x/_p.ipynb", params="z = 1\na = 2\n")
    repo.nb("x/_q.ipynb", params="b = 1\nz = 3\na = 0\n")
    repo.nb("x/_r.ipynb", params="c = 1\n")
    return main


def _wiring(task: dict[str, Any]) -> dict[str, Any]:
    """What a Commands task of the emitted YAML feeds its notebook, read back from the YAML."""
    files = dict(task["inputFiles"])
    params = [(name, source) for name, source in _PARAM.findall(files.pop(PARAMS_FILE, "{}"))]
    files.pop(REQUIREMENTS_FILE)
    files.pop(RUNTIME_FILE, None)
    upstream = {}
    for name, ref in files.items():
        producer, file = _FILE_REF.match(ref).groups()  # type: ignore[union-attr]
        assert file == name
        upstream[file] = producer
    return {"id": task["id"], "params": params, "upstream": upstream, "include": task["namespaceFiles"]["include"],
            "outputFiles": task["outputFiles"], "retry": task.get("retry"), "timeout": task.get("timeout")}


def _expected(step: PipelineStep, pipeline: Pipeline, retry: Any) -> dict[str, Any]:
    params = [(name, output_source(task, name) if task else input_source(name)) for name, task in step.feeds]
    return {"id": step.task_id, "params": params, "upstream": dict(step.upstream_files),
            "include": list(dict.fromkeys([step.notebook, *step.files])),
            "outputFiles": [f"{step.task_id}.output.ipynb", *step.produces], "retry": retry,
            "timeout": pipeline.timeout}


def assert_yaml_says_the_pipeline(project: Project, notebook: Path) -> Pipeline:
    conv = convert_notebook(project, notebook)
    assert conv.ok and conv.text is not None and conv.pipeline is not None, conv.problems
    pipeline, document = conv.pipeline, yaml.safe_load(conv.text)
    retry = conv.header.retry and dict(conv.header.retry)
    assert len(document["tasks"]) == len(pipeline.groups)  # in nbops' flows every group is one top-level task
    for task, group in zip(document["tasks"], pipeline.groups, strict=True):
        if group.parallel_id is not None:
            assert (task["id"], task["type"]) == (group.parallel_id, PARALLEL)
            children = task["tasks"]
        else:
            children = [task]
        assert [_wiring(t) for t in children] == [_expected(s, pipeline, retry) for s in group.steps]
    earlier: dict[str, PipelineStep] = {}
    for group in pipeline.groups:  # what a step takes, an earlier group declared
        for step in group.steps:
            assert all(name in earlier[task].outputs for name, task in step.takes)
            assert all(file in earlier[task].produces for file, task in step.upstream_files)
        earlier.update((s.task_id, s) for s in group.steps)
    assert prepare(project, notebook, None).plan == pipeline  # and the runner follows this very pipeline
    return pipeline


@pytest.mark.parametrize("notebook", sorted(p.relative_to(ROOT).as_posix()
                                            for p in find_project(ROOT).notebook_paths()))
def test_the_example_flows_emit_exactly_their_pipeline(notebook: str) -> None:
    assert_yaml_says_the_pipeline(find_project(ROOT), ROOT / notebook)


def test_a_pipeline_with_parallel_groups_emits_exactly_its_wiring(repo: Repo) -> None:
    pipeline = assert_yaml_says_the_pipeline(find_project(repo.root), made_up_pipeline(repo))
    assert [[s.task_id for s in g.steps] for g in pipeline.groups] == [["p"], ["q", "r"], ["p_2"], ["r_2"]]
    assert [g.parallel_id for g in pipeline.groups] == ["parallel_1", "parallel_2", None, None]
    q, r = pipeline.groups[1].steps
    assert (q.params, q.takes, q.upstream_files) == (("z",), (("b", "p"), ("a", "p")), (("p.txt", "p"),))
    assert r.takes == ()  # c comes from q, in the same group: not available yet
    p_2, r_2 = pipeline.groups[2].steps[0], pipeline.groups[3].steps[0]
    assert p_2.feeds == (("z", None), ("a", "p")) and r_2.takes == (("c", "q"),)
    assert r_2.upstream_files == (("p.txt", "p"), ("r.txt", "r"))
    assert pipeline.retry is not None and pipeline.timeout == "PT1M" and pipeline.width == 2


def test_a_single_notebook_is_one_step_taking_every_input(repo: Repo) -> None:
    path = repo.nb("one.ipynb", "files: [data/*.csv]\n", params="a = 1\nb = 'x'\n")
    pipeline = assert_yaml_says_the_pipeline(find_project(repo.root), path)
    (group,) = pipeline.groups
    assert group.steps == (PipelineStep("run_notebook", "one.ipynb", (("a", None), ("b", None)),
                                        files=("data/*.csv",)),)


def test_lean_and_sourceless_conversions_drop_the_pipeline(repo: Repo) -> None:
    conv = convert_notebook(find_project(repo.root), made_up_pipeline(repo))
    assert conv.pipeline is not None
    assert conv.lean().pipeline is None and conv.without_sources().pipeline is None


class _Counter:
    def __init__(self, monkeypatch: pytest.MonkeyPatch, target: str, *modules: str):
        import importlib

        self.calls: list[Any] = []
        original = getattr(importlib.import_module(modules[0]), target)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((args, kwargs))
            return original(*args, **kwargs)

        for module in modules:  # where it is defined and where it is looked up
            monkeypatch.setattr(f"{module}.{target}", counted)


def test_a_flow_id_is_found_from_headers_alone(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    repo.nb("a/good.ipynb", "id: good_flow\n")
    repo.nb("a/broken.ipynb", "schedule: '0 6 * * *'\n", params="x = (\n")  # its parameters cell cannot parse
    repo.nb("b/other.ipynb")
    project = find_project(repo.root)
    assert not convert_notebook(project, repo.root / "notebooks" / "a" / "broken.ipynb").ok
    converts = _Counter(monkeypatch, "convert", "kernel_ext.core.convert", "kernel_ext.services.project_flows")
    good = repo.root / "notebooks" / "a" / "good.ipynb"
    assert resolve_notebook(project, "good_flow") == good
    assert resolve_notebook(project, "acme.data.a.good_flow") == good
    assert resolve_notebook(project, "acme.data.b.other") == repo.root / "notebooks" / "b" / "other.ipynb"
    assert converts.calls == []


def test_a_flow_id_names_no_flow_or_several(repo: Repo) -> None:
    repo.nb("a/report.ipynb")
    repo.nb("b/report.ipynb")
    repo.nb("c/bad_header.ipynb", "id: [not, a, string]\n")
    (repo.root / "notebooks" / "c" / "cut.ipynb").write_text('{"cells": [')
    project = find_project(repo.root)
    with pytest.raises(NbopsError) as several:
        resolve_notebook(project, "report")
    assert several.value.message == "more than one flow 'report' (acme.data.a.report, acme.data.b.report)"
    assert resolve_notebook(project, "acme.data.b.report") == repo.root / "notebooks" / "b" / "report.ipynb"
    for unknown in ("missing", "bad_header", "cut"):  # a header that cannot name a flow names none
        with pytest.raises(NbopsError) as none:
            resolve_notebook(project, unknown)
        assert none.value.message == f"no flow {unknown!r}"


def test_prepare_validates_but_does_not_render_the_yaml(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    project, path = find_project(repo.root), made_up_pipeline(repo)
    renders = _Counter(monkeypatch, "render_flow", "kernel_ext.core.convert")
    prepared = prepare(project, path, {})
    assert renders.calls == [] and prepared.conversion.text is None and prepared.conversion.flow_path
    invalid = repo.nb("invalid.ipynb", "kestra: {disabled: 3}\n")  # only the finished flow's check sees it
    assert [p.path for p in convert_notebook(project, invalid).problems] == ["disabled"]
    with pytest.raises(InvalidError) as refused:  # validated all the same: an invalid flow is refused
        prepare(project, invalid, {})
    assert [p.path for p in refused.value.problems] == ["disabled"]


@pytest.mark.slow
def test_nbops_run_converts_the_flow_notebook_once(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    repo.nb("pipe/main.ipynb", "steps:\n  - {notebook: _a.ipynb, outputs: [n]}\n  - _b.ipynb\n", params="n = 2\n")
    repo.nb("pipe/_a.ipynb", params="n = 1\n", body="import kernel_ext\nkernel_ext.output(n=n + 1)\n")
    repo.nb("pipe/_b.ipynb", params="n = 0\n", body="assert n == 4\n")
    repo.nb("pipe/unrelated.ipynb", params="x = (\n")
    converts = _Counter(monkeypatch, "convert", "kernel_ext.core.convert", "kernel_ext.services.project_flows")
    renders = _Counter(monkeypatch, "render_flow", "kernel_ext.core.convert")
    result = repo.cli("run", "main", "-p", "n=3")
    assert result.code == 0, result.out + result.err
    assert [args[0].path for args, _ in converts.calls] == ["notebooks/pipe/main.ipynb"] and renders.calls == []
