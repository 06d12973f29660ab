"""``nbops lab-setup``: the IPython kernel config loads kernel_ext, the user's settings stay."""
from __future__ import annotations

import argparse
import io
import subprocess
import sys
from pathlib import Path

import pytest

from kernel_ext.commands.base import Surface
from kernel_ext.commands.lab import add_lab_setup, cmd_lab_setup

USER_CONFIG = 'c = get_config()\nc.InteractiveShellApp.extensions = ["autoreload"]\nc.IPKernelApp.matplotlib = "inline"\n'


def lab_setup(*args: str) -> str:
    """The command, parsed with its own argparse definitions, as `nbops lab-setup` parses it."""
    parser = argparse.ArgumentParser(prog="nbops")
    add_lab_setup(parser.add_subparsers(dest="command"), Surface.TERMINAL)
    out = io.StringIO()
    assert cmd_lab_setup(None, parser.parse_args(["lab-setup", *args]), out) == 0
    return out.getvalue()


@pytest.fixture
def ipython_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "ipython"
    monkeypatch.setenv("IPYTHONDIR", str(folder))
    return folder


def config(ipython_dir: Path) -> Path:
    return ipython_dir / "profile_default" / "ipython_kernel_config.py"


def test_setup_appends_once_and_keeps_the_users_settings(ipython_dir: Path) -> None:
    config(ipython_dir).parent.mkdir(parents=True)
    config(ipython_dir).write_text(USER_CONFIG)
    assert "kernels now load kernel_ext" in lab_setup()
    text = config(ipython_dir).read_text()
    assert text.startswith(USER_CONFIG) and text.count('extensions.append("kernel_ext")') == 1
    assert "nothing to change" in lab_setup() and config(ipython_dir).read_text() == text  # idempotent
    assert "no longer load" in lab_setup("--undo") and config(ipython_dir).read_text() == USER_CONFIG


def test_dry_run_prints_and_changes_nothing(ipython_dir: Path) -> None:
    said = lab_setup("--dry-run")
    assert "would be added" in said and 'c.InteractiveShellApp.extensions.append("kernel_ext")' in said
    assert not config(ipython_dir).exists()


def test_undo_of_a_file_holding_only_the_block_removes_it(ipython_dir: Path) -> None:
    lab_setup()
    assert config(ipython_dir).is_file()
    lab_setup("--undo")
    assert not config(ipython_dir).exists() and "nothing to change" in lab_setup("--undo")


def test_an_explicit_folder_wins_over_ipythondir(ipython_dir: Path, tmp_path: Path) -> None:
    lab_setup("--ipython-dir", str(tmp_path / "other"), "--profile", "work")
    assert (tmp_path / "other" / "profile_work" / "ipython_kernel_config.py").is_file()
    assert not config(ipython_dir).exists()


@pytest.mark.slow
def test_a_new_kernel_then_has_the_magics(ipython_dir: Path) -> None:
    config(ipython_dir).parent.mkdir(parents=True)
    config(ipython_dir).write_text(USER_CONFIG)
    lab_setup()
    probe = ("from jupyter_client.manager import start_new_kernel\n"
             "km, kc = start_new_kernel(kernel_name='python3')\n"
             "try:\n"
             "    code = 'ip = get_ipython(); print(sorted(ip.extension_manager.loaded), "
             "\"flow\" in ip.magics_manager.magics[\"cell\"], \"nbops\" in ip.magics_manager.magics[\"line\"])'\n"
             "    kc.execute_interactive(code, timeout=60)\n"
             "finally:\n"
             "    kc.stop_channels(); km.shutdown_kernel(now=True)\n")
    out = subprocess.run([sys.executable, "-c", probe], check=False, capture_output=True, text=True, timeout=120).stdout
    assert "'IPython.extensions.autoreload'" in out and "'kernel_ext'" in out and out.strip().endswith("True True")
