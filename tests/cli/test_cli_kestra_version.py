"""[tool.nbops] kestra_version through the commands: export writes for it, validate and check apply its
rules and say which version they checked for, run says what that Kestra would do."""
from __future__ import annotations

import json

import pytest
import yaml

from conftest import NAMESPACE, Repo


def target(repo: Repo, version: str) -> Repo:
    (repo.root / "pyproject.toml").write_text(f'[tool.nbops]\nnamespace = "{NAMESPACE}"\nkestra_version = "{version}"\n')
    return repo


def test_export_writes_for_the_target_and_check_names_it(repo: Repo) -> None:
    target(repo, "0.21")
    repo.nb("sales.ipynb", "after: acme.data.load\n", params="region = 'eu'\n")
    assert repo.cli("export").code == 0
    flow = yaml.safe_load((repo.root / "_flows" / "sales.yml").read_text())
    assert flow["tasks"][0]["warningOnStdErr"] is False
    result = repo.cli("check")
    assert result.code == 0 and "check: 1 notebooks, 1 flow files, for Kestra 0.21: ok" in result.out
    assert json.loads(repo.cli("check", "--json").out)["kestra_version"] == "0.21"
    target(repo, "1.3")  # the same notebook for 1.3: the committed flow no longer matches
    result = repo.cli("check")
    assert result.code == 4 and "-  warningOnStdErr: false" in result.out and "for Kestra 1.3" in result.out


def test_after_with_a_required_parameter_is_refused_at_export(repo: Repo) -> None:
    repo.nb("sales.ipynb", "after: acme.data.load\n", params="region: str\n")
    result = repo.cli("export")
    assert result.code == 3 and not (repo.root / "_flows").exists()
    assert "Flow trigger but required input 'region' has no defaults" in result.out


@pytest.mark.parametrize("version,code", [("0.21", 0), ("0.24", 0), ("1.0", 3), ("1.3", 3), ("2.0", 3)])
def test_validate_applies_the_targets_rules_and_says_which(repo: Repo, version: str, code: int) -> None:
    target(repo, version)
    (repo.root / "_flows").mkdir()
    (repo.root / "_flows" / "kill.yml").write_text(
        "id: kill\nnamespace: acme.data\ntasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n")
    result = repo.cli("validate")
    assert result.code == code and f"for Kestra {version}" in result.out
    assert ("reserved by Kestra since 1.0" in result.out) is bool(code)
    assert json.loads(repo.cli("validate", "--json").out)["kestra_version"] == version


def test_an_unknown_version_is_a_configuration_error(repo: Repo) -> None:
    target(repo, "0.19")
    result = repo.cli("check")
    assert result.code == 2 and "kestra_version '0.19'" in result.err


@pytest.mark.slow
def test_run_says_what_the_target_kestra_would_do(repo: Repo) -> None:
    target(repo, "0.21")
    repo.nb("ok.ipynb", params="n = 1\n", body="import sys\nprint('to stderr', file=sys.stderr)\n")
    repo.nb("bad.ipynb", params="n = 1\n", body="raise ValueError('no')\n")
    result = repo.cli("run", "notebooks/ok.ipynb")
    assert result.code == 0 and "(Kestra 0.21 would end it SUCCESS)" in result.out, result.out + result.err
    result = repo.cli("run", "notebooks/bad.ipynb")
    assert result.code == 10 and "(Kestra 0.21 would end it FAILED)" in result.out
    record = json.loads(repo.cli("run", "notebooks/ok.ipynb", "--json").out)
    assert (record["status"], record["kestra_version"], record["kestra_state"]) == ("SUCCESS", "0.21", "SUCCESS")


def test_a_notebook_made_from_an_exported_flow_gets_the_text_back(repo: Repo) -> None:
    repo.nb("greet.ipynb", params='greeting = "Hello {{ name }}"\n')
    assert repo.cli("export").code == 0
    flow = yaml.safe_load((repo.root / "_flows" / "greet.yml").read_text())
    assert flow["inputs"][0]["defaults"] == "Hello {{ '{{' }} name }}"
    assert repo.cli("new", "copy", "--from-flow", str(repo.root / "_flows" / "greet.yml")).code == 0
    cells = json.loads((repo.root / "notebooks" / "copy.ipynb").read_text())["cells"]
    params = next(c for c in cells if "parameters" in c["metadata"].get("tags", []))
    assert "greeting: str = 'Hello {{ name }}'" in "".join(params["source"])
