"""Ask pip whether requirements resolve against the package index (PyPI), installing nothing.

``pip install --dry-run --ignore-installed --report -`` resolves the whole set the way the Kestra
task's ``pip install`` (or ``docker build``) would, and says what it would install. pip runs
isolated from this machine's pip configuration (``PIP_CONFIG_FILE`` = ``os.devnull``,
``--isolated``): a local constraints file, a local mirror or a wheel folder must not decide the
answer. Tests using it are marked ``network``: when PyPI cannot be reached they skip with the
reason, except in CI (``CI`` set), where they fail.
"""
from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

import pytest

INDEX = "https://pypi.org/simple"
# the wheels the default image (python:3.12-slim, Debian bookworm: glibc 2.36, x86_64) can install
IMAGE_PLATFORMS = ("manylinux_2_36_x86_64", "manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64")


@functools.cache
def _unreachable() -> str | None:
    try:
        with urllib.request.urlopen(f"{INDEX}/pip/", timeout=15):
            return None
    except (urllib.error.URLError, OSError) as exc:
        return f"the package index {INDEX} cannot be reached: {exc}"


def need_index() -> None:
    """Skip (fail in CI) when the package index cannot be reached."""
    why = _unreachable()
    if why is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{why} (CI must reach it: this test checks that the pinned requirements resolve)")
    pytest.skip(why)


def resolve(requirements: Sequence[str], constraints: Sequence[str] = (), *,
            python_version: str | None = None) -> dict[str, str]:
    """What pip would install for ``requirements`` under ``constraints``: canonical name → version.
    Fails the test with pip's own message when they do not resolve.

    ``python_version`` (e.g. ``"3.12"``) resolves for a Linux x86_64 CPython of that version from
    wheels only (what the image can install without a compiler). pip still evaluates environment
    markers with the interpreter running the tests (a pip limitation), so a dependency that only
    that version's marker adds is not checked that way."""
    need_index()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "requirements.txt").write_text("".join(f"{r}\n" for r in requirements))
        command = [sys.executable, "-m", "pip", "--isolated", "--disable-pip-version-check", "install",
                   "--dry-run", "--ignore-installed", "--quiet", "--report", "-", "--index-url", INDEX,
                   "--requirement", str(folder / "requirements.txt")]
        if constraints:
            (folder / "constraints.txt").write_text("".join(f"{c}\n" for c in constraints))
            command += ["--constraint", str(folder / "constraints.txt")]
        if python_version:
            command += ["--target", str(folder / "target"), "--only-binary=:all:", "--implementation", "cp",
                        "--python-version", python_version, *(f"--platform={p}" for p in IMAGE_PLATFORMS)]
        env = {**os.environ, "PIP_CONFIG_FILE": os.devnull}
        done = subprocess.run(command, check=False, capture_output=True, text=True, env=env, timeout=900)
    assert done.returncode == 0, f"pip could not resolve {list(requirements)}:\n{done.stderr[-4000:]}"
    report = json.loads(done.stdout)
    return {_canonical(item["metadata"]["name"]): item["metadata"]["version"] for item in report["install"]}


def _canonical(name: str) -> str:
    from packaging.utils import canonicalize_name

    return canonicalize_name(name)
