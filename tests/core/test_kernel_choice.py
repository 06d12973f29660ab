"""Each notebook runs in its own kernel, in an image that has it, or is refused naming its language
(issue 11, point 5): `[tool.nbops.kernels.<kernelspec name>]` says which image has which kernel."""
from __future__ import annotations

import pytest

from kernel_ext.core.convert import convert
from kernel_ext.core.kernel_choice import kernel_choice
from kernel_ext.core.notebook import Cell, CellKind, NotebookSource
from kernel_ext.core.options import KernelImage, Options
from kernel_ext.errors import ConfigError

R_IMAGE = "jupyter/r-notebook:2024-05-27"


def notebook(path: str = "notebooks/nb.ipynb", kernel: str | None = "python3", language: str | None = "python",
             header: str = "description: a flow\n", params: str = "n = 1\n") -> NotebookSource:
    cells = [Cell(0, CellKind.CODE, "%%flow\n" + header, ("skip-execution",)),
             Cell(1, CellKind.CODE, params, ("parameters",)), Cell(2, CellKind.CODE, "n\n")]
    return NotebookSource(path, tuple(cells), kernel, language)


def options(**kernels: dict) -> Options:
    return Options.from_table({"namespace": "acme", "kernels": kernels})


def task(flow_document: dict, index: int = 0) -> dict:
    return flow_document["tasks"][index]


def test_python_notebooks_keep_the_default_kernel_and_image() -> None:
    for kernel in ("python3", "conda-env-analytics-py", None):
        conv = convert(notebook(kernel=kernel), Options(namespace="acme"))
        assert conv.ok, conv.problems
        t = task(conv.document)
        assert t["containerImage"] == "python:3.12-slim"
        assert " --kernel python3 " in t["commands"][-1] and "requirements.txt" in t["inputFiles"]
        assert t["beforeCommands"] == ["pip install --quiet --requirement requirements.txt"]


@pytest.mark.parametrize("kernel,language", [("ir", "R"), ("julia-1.10", "julia"), ("bash", "bash"),
                                             ("xcpp17", "C++17")])
def test_a_notebook_in_another_language_without_a_configured_image_is_refused(kernel: str, language: str) -> None:
    conv = convert(notebook(kernel=kernel, language=language), Options(namespace="acme"))
    assert not conv.ok and conv.document is None
    (problem,) = conv.problems
    assert f"the {language} kernel {kernel!r}" in problem.message and "python:3.12-slim" in problem.message
    assert f"[tool.nbops.kernels.{kernel}]" in (problem.hint or "") and "image =" in (problem.hint or "")


def test_a_configured_kernel_runs_in_its_image_with_its_kernel() -> None:
    conv = convert(notebook(kernel="ir", language="R"), options(ir={"image": R_IMAGE}))
    assert conv.ok, conv.problems
    t = task(conv.document)
    assert t["containerImage"] == R_IMAGE
    assert " --kernel ir " in t["commands"][-1]
    assert t["beforeCommands"] == ["pip install --quiet --requirement requirements.txt"]  # papermill goes in
    assert conv.text is not None and f"containerImage: {R_IMAGE}" in conv.text and "--kernel ir" in conv.text


def test_an_image_with_everything_in_it_gets_no_install_step() -> None:
    conv = convert(notebook(kernel="ir", language="R"), options(ir={"image": R_IMAGE, "install": False}))
    t = task(conv.document)
    assert "beforeCommands" not in t and "requirements.txt" not in t.get("inputFiles", {})
    assert set(t["inputFiles"]) == {"params.json"}  # the parameters still travel in their file


def test_a_python_kernel_can_be_given_an_image_of_its_own() -> None:
    conv = convert(notebook(), options(python3={"image": "acme/notebooks:3", "install": False}))
    t = task(conv.document)
    assert t["containerImage"] == "acme/notebooks:3" and "beforeCommands" not in t
    assert "--kernel python3" in t["commands"][-1]


def test_a_notebook_in_another_language_without_a_kernel_name_is_refused() -> None:
    _, problem = kernel_choice(notebook(kernel=None, language="julia"), Options())
    assert problem is not None and "written in julia" in problem.message


def test_steps_run_each_in_their_own_kernel_and_image() -> None:
    main = notebook(header="steps:\n  - _prep.ipynb\n  - parallel: [_model.ipynb, _report.ipynb]\n")
    steps = {"_prep.ipynb": notebook("notebooks/_prep.ipynb"),
             "_model.ipynb": notebook("notebooks/_model.ipynb", kernel="ir", language="R"),
             "_report.ipynb": notebook("notebooks/_report.ipynb", kernel="bash", language="bash")}
    refused = convert(main, Options(namespace="acme"), steps.get)
    assert [p.message.split(":")[0] for p in refused.problems] == ["step _model.ipynb", "step _report.ipynb"]
    conv = convert(main, options(ir={"image": R_IMAGE}, bash={"image": "acme/bash:1", "install": False}), steps.get)
    assert conv.ok, conv.problems
    prep, parallel = conv.document["tasks"]
    model, report = parallel["tasks"]
    assert (prep["containerImage"], model["containerImage"], report["containerImage"]) == \
        ("python:3.12-slim", R_IMAGE, "acme/bash:1")
    assert ["--kernel python3" in prep["commands"][-1], "--kernel ir" in model["commands"][-1],
            "--kernel bash" in report["commands"][-1]] == [True] * 3
    assert [s.kernel.name for s in conv.pipeline.steps] == ["python3", "ir", "bash"]


def test_the_header_image_is_for_the_steps_without_a_configured_kernel() -> None:
    main = notebook(header="image: acme/py:2\nsteps: [_prep.ipynb, _model.ipynb]\n")
    steps = {"_prep.ipynb": notebook("notebooks/_prep.ipynb"),
             "_model.ipynb": notebook("notebooks/_model.ipynb", kernel="ir", language="R")}
    conv = convert(main, options(ir={"image": R_IMAGE}), steps.get)
    assert [t["containerImage"] for t in conv.document["tasks"]] == ["acme/py:2", R_IMAGE]


def test_the_kernels_table_is_read_and_checked() -> None:
    read = Options.from_table({"kernels": {"ir": {"image": " r:1 "}, "bash": {"image": "b:1", "install": False}}})
    assert read.kernels == (("bash", KernelImage("b:1", False)), ("ir", KernelImage("r:1", True)))
    assert read.kernel_image("ir") == KernelImage("r:1") and read.kernel_image("julia") is None
    for table, fragment in [("x", "must be a table"), ({"ir": "r:1"}, "takes image and install"),
                            ({"ir": {"image": "r", "pull": True}}, "takes image and install"),
                            ({"ir": {}}, "image must be a non-empty string"),
                            ({"ir": {"image": "r", "install": "no"}}, "install must be true or false"),
                            ({"i r": {"image": "r"}}, "is not a kernelspec name")]:
        with pytest.raises(ConfigError, match=fragment):
            Options.from_table({"kernels": table})
