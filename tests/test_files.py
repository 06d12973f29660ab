"""Atomic writes: a reader sees the old or the new file, never half; nothing is left behind."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from kernel_ext.adapters.files import atomic_write, read_text, write_if_changed
from kernel_ext.errors import NbopsError


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "flow.yml"
    target.write_text("old\n")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        atomic_write(target, "new\n")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flow.yml"]


def test_write_keeps_the_mode_of_the_file_it_replaces(tmp_path: Path) -> None:
    target = tmp_path / "flow.yml"
    target.write_text("a")
    target.chmod(0o640)
    atomic_write(target, "b")
    assert target.read_text() == "b" and target.stat().st_mode & 0o777 == 0o640


def test_a_stale_temp_file_from_a_killed_run_is_replaced(tmp_path: Path) -> None:
    import threading

    target = tmp_path / "sub" / "flow.yml"
    target.parent.mkdir()
    (target.parent / f".flow.yml.{os.getpid()}.{threading.get_ident()}.tmp").write_text("half")
    atomic_write(target, "whole")
    assert target.read_text() == "whole" and [p.name for p in target.parent.iterdir()] == ["flow.yml"]


def test_unchanged_content_is_not_rewritten(tmp_path: Path) -> None:
    target = tmp_path / "a" / "flow.yml"
    assert write_if_changed(target, "x") is True
    before = target.stat().st_mtime_ns
    assert write_if_changed(target, "x") is False and target.stat().st_mtime_ns == before


def test_reading_refuses_huge_and_binary_files(tmp_path: Path) -> None:
    big = tmp_path / "big"
    big.write_bytes(b"x" * 2048)
    with pytest.raises(NbopsError, match="more than the 1,024 bytes"):
        read_text(big, 1024)
    binary = tmp_path / "bin"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(NbopsError, match="not UTF-8"):
        read_text(binary, 1024)
