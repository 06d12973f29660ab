"""Reproducible runs through the CLI, in real temp repositories: the pins in the emitted tasks, the
project's constraints file shipped and used, ``install = "image"`` (no install step) and ``nbops
image`` (the Docker build folders of those images)."""
from __future__ import annotations

import json
import re

import pytest
import yaml
from conftest import Repo

from kernel_ext.core.requirements import RUNNER_PINS

PIN_LINES = "".join(f"{pin}\n" for pin in RUNNER_PINS)


def settings(repo: Repo, extra: str) -> None:
    (repo.root / "pyproject.toml").write_text(f'[tool.nbops]\nnamespace = "acme.data"\n{extra}')


def task_of(repo: Repo, relative: str, index: int = 0) -> dict:
    return yaml.safe_load((repo.root / "_flows" / relative).read_text())["tasks"][index]


# ---- pip mode (the default): pins and constraints -------------------------------------------------

def test_every_task_installs_the_pinned_runner_with_pip(repo: Repo) -> None:
    repo.nb("report.ipynb", "requirements: [pandas>=2]\n")
    assert repo.cli("export").code == 0
    task = task_of(repo, "report.yml")
    assert task["inputFiles"]["requirements.txt"] == PIN_LINES + "pandas>=2\n"
    assert task["beforeCommands"] == ["pip install --quiet --requirement requirements.txt"]
    assert "constraints.txt" not in task["inputFiles"] and task["containerImage"] == "python:3.12-slim"


def test_the_same_notebook_gives_the_same_bytes_whatever_is_installed(repo: Repo, monkeypatch) -> None:
    """The pins are constants: the installed versions are never read at export time."""
    import importlib.metadata

    repo.nb("report.ipynb")
    assert repo.cli("export").code == 0
    first = repo.files()
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "0.0.1")
    (repo.root / "_flows" / "report.yml").unlink()
    assert repo.cli("export").code == 0 and repo.files() == first


CONSTRAINTS = """\
# pip-compile --strip-extras --output-file constraints.txt
pandas==2.2.3
    # via -r requirements.in
numpy==2.1.3
papermill==2.7.0
"""


def test_the_projects_constraints_file_is_shipped_with_each_task_and_used(repo: Repo) -> None:
    settings(repo, 'constraints = "constraints.txt"\n')
    (repo.root / "constraints.txt").write_text(CONSTRAINTS)
    repo.nb("pipe/main.ipynb", "steps: [_a.ipynb, _b.ipynb]\nrequirements: [pandas]\n")
    repo.nb("pipe/_a.ipynb")
    repo.nb("pipe/_b.ipynb")
    assert repo.cli("export").code == 0, repo.cli("export").out
    for index in (0, 1):
        task = task_of(repo, "pipe/main.yml", index)
        assert task["inputFiles"]["constraints.txt"] == "pandas==2.2.3\nnumpy==2.1.3\npapermill==2.7.0\n"
        assert task["beforeCommands"][0].endswith("--requirement requirements.txt --constraint constraints.txt")
        # papermill is named by the constraints: the constraints decide its version, nbops' pin steps aside
        assert task["inputFiles"]["requirements.txt"].splitlines()[:2] == ["papermill", "ipykernel==7.4.0"]


def test_a_changed_constraints_file_is_drift(repo: Repo) -> None:
    settings(repo, 'constraints = "constraints.txt"\n')
    (repo.root / "constraints.txt").write_text("pandas==2.2.3\n")
    repo.nb("report.ipynb")
    assert repo.cli("export").code == 0 and repo.cli("check").code == 0
    (repo.root / "constraints.txt").write_text("pandas==2.2.4\n")
    result = repo.cli("check")
    assert result.code == 4 and "pandas==2.2.4" in result.out


@pytest.mark.parametrize("content, message", [
    (None, "constraints: file not found"),
    ("pandas==2.2.3 \\\n    --hash=sha256:0123\n", "line 1"),
    ("requests[socks]==2.32.0\n", "no extras"),
])
def test_a_constraints_file_nbops_cannot_ship_is_a_configuration_error(repo: Repo, content: str | None,
                                                                        message: str) -> None:
    settings(repo, 'constraints = "constraints.txt"\n')
    if content is not None:
        (repo.root / "constraints.txt").write_text(content)
    repo.nb("report.ipynb")
    result = repo.cli("export")
    assert result.code == 2 and message in result.err and repo.files() == {}


def test_a_constraints_file_outside_the_repository_is_refused(repo: Repo) -> None:
    settings(repo, 'constraints = "../constraints.txt"\n')
    assert repo.cli("export").code == 2


def test_requirements_a_constraint_excludes_are_refused_at_export(repo: Repo) -> None:
    settings(repo, 'constraints = "constraints.txt"\n')
    (repo.root / "constraints.txt").write_text("pandas==2.2.3\n")
    repo.nb("report.ipynb", "requirements: [pandas>=2.3]\n")
    result = repo.cli("export")
    assert result.code == 3 and "pandas==2.2.3 is excluded by pandas>=2.3" in result.out


def test_an_official_python_image_too_old_for_the_pins_is_refused(repo: Repo) -> None:
    repo.nb("report.ipynb", "image: python:3.10-slim\n")
    result = repo.cli("export")
    assert result.code == 3 and "Python >= 3.11" in result.out


# ---- install = "image": no install step -----------------------------------------------------------

def test_with_install_image_the_tasks_install_nothing(repo: Repo) -> None:
    settings(repo, 'install = "image"\nimage = "ghcr.io/acme/flows-{namespace}:3"\nconstraints = "c.txt"\n')
    (repo.root / "c.txt").write_text("pandas==2.2.3\n")
    repo.nb("sales/report.ipynb", "requirements: [pandas]\n", params="day = '2024-01-01'\n")
    repo.nb("own.ipynb", "image: ghcr.io/acme/special:1\n", params="")
    assert repo.cli("export").code == 0
    task = task_of(repo, "sales/report.yml")
    assert task["containerImage"] == "ghcr.io/acme/flows-acme.data.sales:3"
    assert "beforeCommands" not in task and set(task["inputFiles"]) == {"params.json"}
    own = task_of(repo, "own.yml")  # a header's image wins, and installs nothing either
    assert own["containerImage"] == "ghcr.io/acme/special:1" and "beforeCommands" not in own
    assert "inputFiles" not in own  # no parameters, nothing to install: no inputFiles at all


@pytest.mark.parametrize("extra, message", [
    ('install = "conda"\n', "install must be one of 'pip', 'image'"),
    ('install = "image"\n', "needs image"),
    ('constraint_lines = ["x"]\n', "unknown key 'constraint_lines'"),
])
def test_wrong_install_settings_are_configuration_errors(repo: Repo, extra: str, message: str) -> None:
    settings(repo, extra)
    repo.nb("report.ipynb")
    result = repo.cli("export")
    assert result.code == 2 and message in result.err


# ---- nbops image ------------------------------------------------------------------------------------

def image_repo(repo: Repo, extra: str = 'install = "image"\nimage = "ghcr.io/acme/flows-{namespace}:3"\n') -> None:
    settings(repo, 'requirements = ["pandas==2.2.3"]\n' + extra)
    repo.nb("ingest/load.ipynb", "requirements: [pyarrow==18.0.0]\n")
    repo.nb("ingest/clean.ipynb")
    repo.nb("report.ipynb", "requirements: [matplotlib>=3.8]\n")


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, comments and blank lines left out, continued
    lines joined: a structural reading, not a parser."""
    text = re.sub(r"\\\n", " ", dockerfile)
    rows = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(row.split(None, 1)[0].upper(), row.split(None, 1)[1] if " " in row else "") for row in rows]


def test_nbops_image_writes_a_dockerfile_per_namespace_with_the_pinned_requirements(repo: Repo) -> None:
    """No Docker engine here (``docker build`` cannot run): the Dockerfile is checked structurally.
    FROM comes first; the only network access is pip installing the pinned requirements file under
    the constraints; then the kernel papermill starts is registered."""
    image_repo(repo)
    result = repo.cli("image")
    assert result.code == 0, result.out
    assert sorted(repo.files("images")) == sorted(f"images/{ns}/{name}" for ns in ("acme.data", "acme.data.ingest")
                                                  for name in ("Dockerfile", "constraints.txt", "requirements.txt"))
    folder = repo.root / "images" / "acme.data.ingest"
    dockerfile = (folder / "Dockerfile").read_text()
    steps = instructions(dockerfile)
    assert steps[0] == ("FROM", "python:3.12-slim")
    assert [kind for kind, _ in steps] == ["FROM", "COPY", "RUN", "RUN"]
    assert steps[1] == ("COPY", "requirements.txt constraints.txt /opt/nbops/")
    pip = steps[2][1].split()
    assert pip[:4] == ["python", "-m", "pip", "install"]
    assert pip[pip.index("--requirement") + 1] == "/opt/nbops/requirements.txt"
    assert pip[pip.index("--constraint") + 1] == "/opt/nbops/constraints.txt"
    assert steps[3] == ("RUN", "python -m ipykernel install --sys-prefix --name python3")
    assert not re.search(r"\b(curl|wget|git|ADD|apt-get)\b|https?://", "\n".join(f"{k} {a}" for k, a in steps))
    assert "docker build --tag ghcr.io/acme/flows-acme.data.ingest:3 images/acme.data.ingest" in dockerfile
    requirements = [line for line in (folder / "requirements.txt").read_text().splitlines() if not line.startswith("#")]
    assert requirements == [*RUNNER_PINS, "pandas==2.2.3", "pyarrow==18.0.0"]
    root = (repo.root / "images" / "acme.data" / "requirements.txt").read_text()
    assert "matplotlib>=3.8" in root and "pyarrow" not in root
    assert "not pinned" in result.out and "matplotlib>=3.8" in result.out
    assert "build: docker build --tag ghcr.io/acme/flows-acme.data.ingest:3 images/acme.data.ingest" in result.out


def test_nbops_image_is_idempotent_and_check_finds_drift(repo: Repo) -> None:
    image_repo(repo)
    assert repo.cli("image").code == 0
    first = repo.files("images")
    again = repo.cli("image")
    assert again.code == 0 and "0 file(s) written, 6 unchanged" in again.out and repo.files("images") == first
    assert repo.cli("image", "--check").code == 0
    repo.nb("ingest/more.ipynb", "requirements: [polars==1.0.0]\n")
    check = repo.cli("image", "--check")
    assert check.code == 4 and "images/acme.data.ingest/requirements.txt differs" in check.out
    assert repo.files("images") == first


def test_nbops_image_dry_run_writes_nothing(repo: Repo) -> None:
    image_repo(repo)
    result = repo.cli("image", "--dry-run")
    assert result.code == 0 and "would write images/acme.data.ingest/Dockerfile" in result.out
    assert repo.files("images") == {}


def test_without_namespace_in_image_one_image_serves_the_project(repo: Repo) -> None:
    image_repo(repo, 'install = "image"\nimage = "ghcr.io/acme/flows:3"\n')
    result = repo.cli("image", "--out", "docker")
    assert result.code == 0, result.out
    assert sorted(repo.files("docker")) == ["docker/acme.data/Dockerfile", "docker/acme.data/constraints.txt",
                                            "docker/acme.data/requirements.txt"]
    text = (repo.root / "docker" / "acme.data" / "requirements.txt").read_text()
    assert "pyarrow==18.0.0" in text and "matplotlib>=3.8" in text
    assert "namespace acme.data and its child namespaces" in (repo.root / "docker" / "acme.data" / "Dockerfile").read_text()


def test_nbops_image_ships_the_constraints_and_names_flows_with_their_own_image(repo: Repo) -> None:
    image_repo(repo, 'constraints = "constraints.txt"\n')
    (repo.root / "constraints.txt").write_text("pandas==2.2.3\nmatplotlib==3.9.2\n")
    repo.nb("special.ipynb", "image: ghcr.io/acme/special:1\n")
    result = repo.cli("image")
    assert result.code == 0, result.out
    constraints = (repo.root / "images" / "acme.data" / "constraints.txt").read_text()
    assert constraints.splitlines()[1:] == ["pandas==2.2.3", "matplotlib==3.9.2"]
    assert "not pinned" not in result.out  # matplotlib>=3.8 is pinned by the constraints
    assert "note: _flows/special.yml names its own image" in result.out
    assert 'set [tool.nbops] install = "image"' in result.out  # install = "pip": the flows do not use them yet
    assert "docker build --tag IMAGE images/acme.data" in (repo.root / "images" / "acme.data" / "Dockerfile").read_text()


@pytest.mark.parametrize("extra, message", [
    ('install = "image"\nimage = "ghcr.io/Acme/Flows-{namespace}:3"\n', "is not a Docker image reference"),
    ('base_image = "python:3.10-slim"\n', "Python >= 3.11"),
])
def test_nbops_image_checks_its_settings_before_writing(repo: Repo, extra: str, message: str) -> None:
    image_repo(repo, extra)
    result = repo.cli("image")
    assert result.code == 3 and message in result.out and "nothing written" in result.out
    assert repo.files("images") == {}


def test_flows_of_one_image_that_pin_a_package_differently_are_refused(repo: Repo) -> None:
    """Each flow alone is fine; one image cannot hold both pins."""
    settings(repo, 'install = "image"\nimage = "ghcr.io/acme/flows-{namespace}:3"\n')
    repo.nb("ingest/old.ipynb", "requirements: [pandas==2.1.0]\n")
    repo.nb("ingest/new.ipynb", "requirements: [pandas==2.2.3]\n")
    assert repo.cli("export").code == 0
    result = repo.cli("image")
    assert result.code == 3 and "nothing written" in result.out and repo.files("images") == {}
    assert "the flows of acme.data.ingest need requirements that cannot all hold in one image: " \
           "pandas is pinned to 2.1.0 and 2.2.3" in result.out


def test_nbops_image_refuses_when_a_notebook_does_not_convert(repo: Repo) -> None:
    image_repo(repo)
    repo.nb("broken.ipynb", "shedule: daily\n")
    result = repo.cli("image")
    assert result.code == 3 and "broken.ipynb" in result.out and repo.files("images") == {}


def test_nbops_image_reports_in_json_and_keeps_folders_whose_flows_are_gone(repo: Repo) -> None:
    image_repo(repo)
    assert repo.cli("image").code == 0
    (repo.root / "notebooks" / "ingest" / "load.ipynb").unlink()
    (repo.root / "notebooks" / "ingest" / "clean.ipynb").unlink()
    result = repo.cli("image", "--json")
    report = json.loads(result.out)
    assert result.code == 0 and report["stale"] == ["images/acme.data.ingest"]
    assert [i["namespace"] for i in report["images"]] == ["acme.data"]
    assert report["images"][0]["image"] == "ghcr.io/acme/flows-acme.data:3"
    assert report["images"][0]["unpinned"] == ["matplotlib>=3.8"]
    assert (repo.root / "images" / "acme.data.ingest" / "Dockerfile").is_file()


@pytest.mark.parametrize("out", ["notebooks/images", "_flows", "../elsewhere", "/tmp/elsewhere", "."])
def test_nbops_image_writes_only_beside_the_notebooks_and_flows(repo: Repo, out: str) -> None:
    image_repo(repo)
    result = repo.cli("image", "--out", out)
    assert result.code == 2 and "--out must" in result.err and repo.files("images") == {}


@pytest.mark.network
def test_the_images_requirements_resolve_against_the_package_index(repo: Repo) -> None:
    """What ``docker build`` would install resolves on PyPI: the image's pinned requirements file
    under its constraints file, as written by ``nbops image``."""
    from pip_index import resolve

    settings(repo, 'install = "image"\nimage = "ghcr.io/acme/flows-{namespace}:3"\nconstraints = "constraints.txt"\n'
                   'requirements = ["pandas>=2.1"]\n')
    (repo.root / "constraints.txt").write_text("pandas==2.2.3\nnumpy==2.1.3\n")
    repo.nb("report.ipynb", "requirements: [tzdata]\n")
    assert repo.cli("image").code == 0
    folder = repo.root / "images" / "acme.data"
    lines = {name: [line for line in (folder / name).read_text().splitlines() if not line.startswith("#")]
             for name in ("requirements.txt", "constraints.txt")}
    installed = resolve(lines["requirements.txt"], lines["constraints.txt"])
    assert installed["papermill"] == "2.7.0" and installed["pandas"] == "2.2.3" and installed["numpy"] == "2.1.3"
