"""Atomic writes: a reader sees the old or the new file, never half; nothing is left behind."""
from __future__ import annotations

import os
from collections.abc import Iterator
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


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.usefixtures("umask_022")
def test_the_executable_option_sets_or_clears_the_bit_like_git_checkout(tmp_path: Path) -> None:
    script = tmp_path / "new" / "run.sh"
    atomic_write(script, b"#!/bin/sh\n", executable=True)  # a new file, in a new folder
    assert script.read_bytes() == b"#!/bin/sh\n" and script.stat().st_mode & 0o777 == 0o755
    atomic_write(script, b"#!/bin/sh\nexit 1\n", executable=False)
    assert script.stat().st_mode & 0o777 == 0o644
    private = tmp_path / "private.txt"
    private.write_text("a")
    private.chmod(0o600)
    atomic_write(private, "b", executable=False)  # explicit: git's mode, not the old file's
    assert private.stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new", "private.txt"]


def test_the_symlink_option_writes_a_link_and_never_writes_through_one(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me\n")
    link = tmp_path / "repo" / "sub" / "link.yml"
    atomic_write(link, b"../../outside.txt", symlink=True)  # the target text, kept as given
    assert link.is_symlink() and os.readlink(link) == "../../outside.txt" and link.read_text() == "keep me\n"
    atomic_write(link, "a.yml", symlink=True)  # replaces the link itself
    assert os.readlink(link) == "a.yml" and outside.read_text() == "keep me\n"
    atomic_write(link, b"plain\n", executable=False)  # a file over a link: the link goes, the target stays
    assert not link.is_symlink() and link.read_bytes() == b"plain\n" and outside.read_text() == "keep me\n"
    atomic_write(link, "b.yml", symlink=True)  # a link over a file
    assert os.readlink(link) == "b.yml"
    assert [p.name for p in link.parent.iterdir()] == ["link.yml"]


def test_a_stale_temp_is_replaced_and_a_failed_link_leaves_nothing(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    link = tmp_path / "link"
    stale = tmp_path / f".link.{os.getpid()}.{threading.get_ident()}.tmp"
    os.symlink("stale", stale)
    atomic_write(link, "target", symlink=True)
    assert os.readlink(link) == "target" and sorted(p.name for p in tmp_path.iterdir()) == ["link"]

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        atomic_write(link, "other", symlink=True)
    assert os.readlink(link) == "target" and sorted(p.name for p in tmp_path.iterdir()) == ["link"]
