"""A step's working folder, holding what its Kestra task would get and nothing else."""
from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path


def fresh_workdir(workdir: Path, base: Path, files: Iterable[str], upstream: Iterable[tuple[Path, str]]) -> Path:
    """Empty ``workdir``, then fill it with the namespace files matching ``files`` (globs relative
    to ``base``, the flow notebook's folder) and the ``(folder, file)`` products of earlier steps.
    Every attempt starts afresh, as each Kestra attempt gets a new working directory."""
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    for pattern in files:
        for source in base.glob(pattern):
            if source.is_file() and not source.is_symlink():  # a link could lead out of the repository
                _copy(source, workdir / source.relative_to(base))
    for folder, file in upstream:
        if (folder / file).is_file():
            _copy(folder / file, workdir / file)
    return workdir


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)
