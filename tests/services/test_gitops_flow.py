"""`nbops export --gitops-flow`: a SyncFlows + SyncNamespaceFiles flow per namespace, pointing
Kestra at this repository (real Git repositories)."""
from __future__ import annotations

import yaml

from conftest import Repo
from kernel_ext.core.flow_validation import parse_flow_text


def with_flows(repo: Repo) -> Repo:
    repo.nb("a.ipynb")
    repo.nb("finance/b.ipynb")
    return repo


def test_one_sync_flow_per_namespace(repo: Repo) -> None:
    with_flows(repo).git("remote", "add", "origin", "https://git.example.com/acme/flows.git")
    result = repo.cli("export", "--gitops-flow")
    assert result.code == 0 and "wrote _flows/finance/gitops_sync.yml" in result.out
    text = (repo.root / "_flows" / "finance" / "gitops_sync.yml").read_text()
    assert parse_flow_text(text)[1] == []
    flow = yaml.safe_load(text)
    sync_flows, sync_files = flow["tasks"]
    assert (flow["namespace"], sync_flows["targetNamespace"], sync_flows["gitDirectory"]) == \
        ("acme.data.finance", "acme.data.finance", "_flows/finance")
    assert (sync_files["namespace"], sync_files["gitDirectory"]) == ("acme.data.finance", "notebooks/finance")
    assert sync_flows["url"] == "https://git.example.com/acme/flows.git" and sync_flows["branch"] == "main"
    assert sync_flows["delete"] is False and flow["triggers"][0]["cron"] == "*/15 * * * *"
    assert flow["pluginDefaults"][0]["values"]["password"] == "{{ secret('GIT_TOKEN') }}"
    root = yaml.safe_load((repo.root / "_flows" / "gitops_sync.yml").read_text())
    assert root["tasks"][0]["gitDirectory"] == "_flows" and root["tasks"][1]["gitDirectory"] == "notebooks"
    again = repo.cli("export", "--gitops-flow")
    assert again.code == 0 and "gitops_sync" not in again.out  # unchanged: not rewritten
    assert repo.cli("check").code == 0


def test_a_file_remote_needs_no_credentials_and_branch_can_be_chosen(repo: Repo, tmp_path) -> None:
    with_flows(repo).git("remote", "add", "origin", str(tmp_path / "remote.git"))
    assert repo.cli("export", "--gitops-flow", "--branch", "kestra").code == 0
    flow = yaml.safe_load((repo.root / "_flows" / "gitops_sync.yml").read_text())
    assert "pluginDefaults" not in flow and flow["tasks"][0]["branch"] == "kestra"


def test_no_remote_credentials_in_urls_or_hostile_urls(repo: Repo) -> None:
    with_flows(repo)
    result = repo.cli("export", "--gitops-flow")
    assert result.code == 2 and "no remote 'origin'" in result.err and repo.files() == {}
    repo.git("remote", "add", "origin", "https://user:ghp_token@github.com/a/b.git")
    result = repo.cli("export", "--gitops-flow")
    assert result.code == 2 and "carries credentials" in result.err and repo.files() == {}
    repo.git("remote", "set-url", "origin", "ext::sh -c touch% /tmp/pwned")
    assert repo.cli("export", "--gitops-flow").code == 2


def test_detached_head_needs_a_branch(repo: Repo) -> None:
    with_flows(repo).git("remote", "add", "origin", "https://git.example.com/a.git")
    repo.git("add", "-A")
    repo.git("commit", "-qm", "x")
    repo.git("checkout", "-q", "--detach")
    result = repo.cli("export", "--gitops-flow")
    assert result.code == 2 and "HEAD is detached" in result.err
    assert repo.cli("export", "--gitops-flow", "--branch", "main").code == 0


def test_a_notebook_flow_named_gitops_sync_is_not_overwritten(repo: Repo) -> None:
    repo.nb("gitops_sync.ipynb")
    repo.git("remote", "add", "origin", "https://git.example.com/a.git")
    result = repo.cli("export", "--gitops-flow")
    assert result.code == 2 and "is not nbops' gitops flow" in result.err
    assert repo.files() == {}  # checked before anything is written


def test_ssh_remotes_read_a_key_from_kestra_secrets(repo: Repo) -> None:
    with_flows(repo).git("remote", "add", "origin", "git@github.com:acme/flows.git")
    assert repo.cli("export", "--gitops-flow").code == 0
    flow = yaml.safe_load((repo.root / "_flows" / "gitops_sync.yml").read_text())
    assert flow["pluginDefaults"][0]["values"] == {"privateKey": "{{ secret('GIT_SSH_KEY') }}"}
