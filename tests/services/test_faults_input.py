"""Bad input: a clear error naming the file, the documented exit code, never a traceback, the other
files still reported and nothing half written (docs/faults.md)."""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import NAMESPACE, CliResult, Repo

NOBODY = 65534
HUGE = "1" * 5000  # Python refuses to turn more than 4,300 digits into an int (ValueError)


def clean(result: CliResult) -> None:
    text = result.out + result.err
    assert "Traceback" not in text and "PermissionError" not in text and "ValueError" not in text, text


# --- An unreadable notebook ------------------------------------------------------------------------
# Tests run as root, who reads any file. So the CLI runs in-process with the effective uid and gid of
# `nobody` (os.seteuid, undone after each call; the real uid stays 0 so it can be); Git, which the CLI
# runs, inherits them. The repository is owned by nobody, in a temp folder nobody can reach, with HOME
# there too; the notebook is mode 000, so nobody cannot read it. Not root: plain chmod 000 does it.


@pytest.fixture
def nobody_repo(monkeypatch: pytest.MonkeyPatch) -> Iterator[Repo]:
    base = Path(tempfile.mkdtemp(prefix="nbops-nobody-"))
    base.chmod(0o755)
    root = base / "repo"
    root.mkdir()
    (root / "pyproject.toml").write_text(f'[tool.nbops]\nnamespace = "{NAMESPACE}"\n')
    monkeypatch.setenv("HOME", str(base))
    (base / ".gitconfig").write_text("[safe]\n\tdirectory = *\n")  # git's transport checks the bare remote too
    for args in (["init", "-q", "-b", "main"], ["config", "user.email", "t@example.com"], ["config", "user.name", "T"]):
        subprocess.run(["git", *args], cwd=root, check=True)
    try:
        yield Repo(root)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def chown_all(folder: Path) -> None:
    if os.geteuid() == 0:
        for path in [folder, *folder.rglob("*")]:
            os.lchown(path, NOBODY, NOBODY)


def _preload() -> None:
    """Import now what the commands import lazily: nobody cannot read root's Python (under /root)."""
    import importlib

    for name in ("multiprocessing", "concurrent.futures", "mmap", "git", "nbformat", "kernel_ext.adapters.git",
                 "kernel_ext.services.export", "kernel_ext.services.check", "kernel_ext.services.commit",
                 "kernel_ext.services.remote", "kernel_ext.services.scan", "kernel_ext.adapters.secretfiles"):
        importlib.import_module(name)
    from kernel_ext.adapters.secrets import scan_text

    scan_text("token = 'x'\n", "warm-up")  # detect-secrets loads its plugins on first use


@contextlib.contextmanager
def as_nobody() -> Iterator[None]:
    if os.getuid() != 0:
        yield
        return
    _preload()
    os.setegid(NOBODY)
    os.seteuid(NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


def unreadable(path: Path) -> Path:
    path.chmod(0)
    return path


def test_an_unreadable_notebook_is_named_by_export_and_check(nobody_repo: Repo) -> None:
    repo = nobody_repo
    repo.nb("good.ipynb")
    unreadable(repo.nb("secret.ipynb"))
    chown_all(repo.root.parent)
    with as_nobody():
        export = repo.cli("export")
        kept_going = repo.cli("export", "--keep-going")
        check = repo.cli("check")
    for result in (export, kept_going, check):
        clean(result)
        assert result.code == 3 and "notebooks/secret.ipynb" in result.out and "cannot read" in result.out, result
    assert "nothing written" in export.out
    assert set(repo.files()) == {"_flows/good.yml"}  # written by --keep-going only
    assert "[invalid] notebooks/secret.ipynb" in check.out


def test_an_unreadable_notebook_stops_commit_and_sync_with_its_name(nobody_repo: Repo, tmp_path: Path) -> None:
    repo = nobody_repo
    remote = repo.root.parent / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    repo.git("remote", "add", "origin", str(remote))
    repo.nb("good.ipynb")
    repo.nb("secret.ipynb")
    chown_all(repo.root.parent)
    with as_nobody():
        assert repo.cli("commit", "-m", "first").code == 0 and repo.cli("push").code == 0
        before = repo.git("rev-parse", "HEAD")
        unreadable(repo.root / "notebooks" / "secret.ipynb")
        repo.nb("good.ipynb", body="print(2)\n")
        commit = repo.cli("commit", "-m", "second")
        sync = repo.cli("sync")
        after = repo.git("rev-parse", "HEAD")
    for result in (commit, sync):
        clean(result)
        assert result.code in (1, 3) and "notebooks/secret.ipynb" in result.out + result.err, result
    assert commit.code == 3 and after == before


# --- A 5,000-digit integer in a flow file ----------------------------------------------------------

def huge_flow(repo: Repo) -> None:
    (repo.root / "_flows").mkdir(exist_ok=True)
    (repo.root / "_flows" / "huge.yml").write_text(
        f"id: huge\nnamespace: {NAMESPACE}\ntasks:\n  - id: wait\n    type: io.kestra.plugin.core.flow.Sleep\n"
        f"    duration: PT1S\n    timeout: {HUGE}\n")
    (repo.root / "_flows" / "bad.yml").write_text(f"id: bad\nnamespace: {NAMESPACE}\n")  # no tasks


def test_a_huge_integer_in_a_flow_file_is_a_located_problem(repo: Repo) -> None:
    huge_flow(repo)
    for result in (repo.cli("validate"), repo.cli("check")):
        clean(result)
        assert result.code == 3 and "_flows/huge.yml" in result.out and "line 7" in result.out, result
        assert "5,000 digits" in result.out and "_flows/bad.yml" in result.out  # the other file still reported


def test_a_huge_integer_in_a_notebook_is_a_problem_not_a_crash(repo: Repo) -> None:
    path = repo.nb("a.ipynb")
    text = path.read_text()
    path.write_text(text.replace('"metadata": {', f'"metadata": {{"n": {HUGE}, ', 1))
    repo.nb("b.ipynb")
    for result in (repo.cli("export"), repo.cli("check"), repo.cli("secrets")):
        clean(result)
        assert result.code == 3 and "notebooks/a.ipynb" in result.out and "4300 digits" in result.out, result
    assert repo.files() == {}  # export: nothing written


def test_a_huge_integer_breaks_one_catalog_page_not_the_catalog(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1704067200")
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")
    (repo.root / "mkdocs.yml").write_text("site_name: flows\ntheme: {name: material, font: false}\n"
                                          "plugins: [search, {nbops: {notebooks: false}}]\nmarkdown_extensions: [tables]\n")
    (repo.root / "docs").mkdir()
    (repo.root / "docs" / "index.md").write_text("# Home\n")
    repo.nb("report.ipynb")
    huge_flow(repo)
    result = repo.cli("catalog", "build")
    clean(result)
    assert result.code == 0, result
    pages = {p.relative_to(repo.root / "site").as_posix(): p.read_text() for p in (repo.root / "site").rglob("*.html")}
    assert any("5,000 digits" in text and "_flows/huge.yml" in text for text in pages.values())
    assert any("report" in name for name in pages)


# --- A notebook that is not UTF-8 ------------------------------------------------------------------

def test_a_non_utf8_notebook_is_named_and_the_others_still_checked(repo: Repo) -> None:
    repo.nb("good.ipynb", body="token = 'ghp_1234567890abcdefghijklmnopqrstuvwxyzAB'\n")
    latin = repo.nb("latin.ipynb", body="print('caf\u00e9')\n")
    latin.write_bytes(latin.read_text().replace("\\u00e9", "\u00e9").replace("é", "é").encode("latin-1"))
    assert repo.cli("export", "--keep-going").code == 3
    check = repo.cli("check")
    secrets = repo.cli("secrets")
    for result in (check, secrets):
        clean(result)
        assert result.code == 3 and "notebooks/latin.ipynb" in result.out and "UTF-8" in result.out, result
        assert "notebooks/good.ipynb" in result.out  # its secret is still reported
    assert "[secret] notebooks/good.ipynb" in check.out


# --- A write error half-way through export ---------------------------------------------------------

def test_a_write_error_half_way_names_what_was_and_was_not_written(repo: Repo) -> None:
    repo.nb("a.ipynb")
    repo.nb("child/b.ipynb")
    repo.nb("z.ipynb")
    (repo.root / "_flows").mkdir()
    (repo.root / "_flows" / "child").write_text("a file where the folder should be\n")
    result = repo.cli("export")
    clean(result)
    assert result.code == 1, result
    assert "_flows/child/b.yml: not written" in result.out
    assert "wrote _flows/a.yml" in result.out and "wrote _flows/z.yml" in result.out
    assert set(repo.files()) == {"_flows/a.yml", "_flows/z.yml", "_flows/child"}
    assert not [p for p in (repo.root / "_flows").rglob("*") if p.name.endswith(".tmp")]  # nothing half written
