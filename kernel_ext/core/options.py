"""The one options object: ``[tool.nbops]`` in pyproject.toml, with embedded defaults."""
from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from typing import Any

from ..errors import ConfigError
from .kestra_version import DEFAULT, KestraVersion, version

INSTALL_MODES = ("pip", "image")

KERNEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\Z")  # jupyter_client's kernelspec names (kernelspec.py)


@dataclass(frozen=True)
class KernelImage:
    """A ``[tool.nbops.kernels.<kernelspec name>]`` entry: the image that has that kernel."""

    image: str  # containerImage of the tasks running notebooks in that kernel
    install: bool = True  # False: the image already has papermill and the kernel, no pip install step


@dataclass(frozen=True)
class Options:
    namespace: str = "company.team"  # root namespace: notebooks/ maps to it, sub-folders to children
    notebooks: str = "notebooks"  # folder of flow notebooks, relative to the repository root
    flows: str = "_flows"  # folder of Kestra flows (SyncFlows' gitDirectory)
    image: str = "python:3.12-slim"  # containerImage of generated tasks
    kernel: str = "python3"  # kernel papermill starts, locally and in Kestra
    requirements: tuple[str, ...] = ()  # installed before each notebook task, after nbops' pins (core/requirements.py)
    gitops_schedule: str = "*/15 * * * *"  # how often the generated gitops_sync flows pull from Git
    strip_outputs: bool = True  # commit notebooks without outputs and execution counts
    author: str = ""  # "Name <email>" for nbops commit; empty: Git's own user settings
    max_delete_share: float = 0.5  # sync --delete (flows, notebooks) and commit (flows) refuse more without --force
    kestra_version: str = str(DEFAULT)  # the Kestra the flows are for: export, validate and run follow it
    install: str = "pip"  # "pip": each task installs its requirements.txt; "image": the image has them (nbops image)
    constraints: str = ""  # a pip constraints file at the repository root, shipped with every task (pip install -c)
    base_image: str = "python:3.12-slim"  # what the Dockerfiles `nbops image` writes start FROM
    # the constraints file's lines, read by adapters/project.load_options (not a [tool.nbops] key)
    constraint_lines: tuple[str, ...] = field(default=(), metadata={"loaded": True})
    kernels: tuple[tuple[str, KernelImage], ...] = ()  # [tool.nbops.kernels.<name>]: kernelspec name → its image

    def kernel_image(self, name: str | None) -> KernelImage | None:
        """The configured image of kernel ``name`` (None when it has no entry)."""
        return dict(self.kernels).get(name) if name else None

    @property
    def kestra(self) -> KestraVersion:
        return version(self.kestra_version)

    @classmethod
    def from_table(cls, table: dict[str, Any], source: str = "pyproject.toml") -> Options:
        """Options from a ``[tool.nbops]`` table; unknown keys and wrong types are errors."""
        known = {f.name: f for f in fields(cls) if not f.metadata.get("loaded")}
        values: dict[str, Any] = {}
        for key, value in table.items():
            if key not in known:
                raise ConfigError(f"[tool.nbops] has unknown key {key!r}", file=source,
                                  hint="known keys: " + ", ".join(known))
            default = getattr(cls, key)
            if key == "kernels":
                value = _kernels(value, source)
            elif isinstance(default, bool) or isinstance(default, float):
                if not isinstance(value, type(default)) and not (isinstance(default, float) and
                                                                 isinstance(value, int) and not isinstance(value, bool)):
                    raise ConfigError(f"[tool.nbops] {key} must be {type(default).__name__}", file=source)
                value = type(default)(value)
            elif isinstance(default, tuple):
                if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                    raise ConfigError(f"[tool.nbops] {key} must be a list of strings", file=source)
                value = tuple(value)
            elif not isinstance(value, str) or (not value and default):
                raise ConfigError(f"[tool.nbops] {key} must be a non-empty string", file=source)
            values[key] = value
        if "kestra_version" in values:  # "1.3.2" → "1.3"; a version nbops does not know is an error
            try:
                values["kestra_version"] = str(version(values["kestra_version"]))
            except ConfigError as exc:
                raise ConfigError(exc.message, file=source, hint=exc.hint) from None
        if values.get("install", "pip") not in INSTALL_MODES:
            raise ConfigError(f"[tool.nbops] install must be one of {', '.join(map(repr, INSTALL_MODES))}",
                              file=source, hint="'pip' installs requirements.txt in each task at run time; 'image' "
                                                "runs the tasks in an image that has them (see nbops image)")
        if values.get("install") == "image" and values.get("image", cls.image) == cls.image:
            raise ConfigError("[tool.nbops] install = \"image\" needs image: the image `nbops image` builds",
                              file=source, hint="e.g. image = \"registry.example.com/flows/{namespace}:1\"")
        return cls(**values)


def _kernels(table: Any, source: str) -> tuple[tuple[str, KernelImage], ...]:
    """``[tool.nbops.kernels.<name>]`` tables: ``image`` (required) and ``install`` (default true)."""
    if not isinstance(table, dict):
        raise ConfigError("[tool.nbops] kernels must be a table of kernels", file=source,
                          hint='e.g. [tool.nbops.kernels.ir] image = "jupyter/r-notebook:2024-05-27"')
    entries = []
    for name, entry in sorted(table.items()):
        where = f"[tool.nbops.kernels.{name}]"
        if not KERNEL_NAME.match(name):
            raise ConfigError(f"{where}: {name!r} is not a kernelspec name", file=source,
                              hint="use the name `jupyter kernelspec list` shows (letters, digits, '.', '_', '-')")
        if not isinstance(entry, dict) or set(entry) - {"image", "install"}:
            raise ConfigError(f"{where} takes image and install", file=source)
        image, install = entry.get("image"), entry.get("install", True)
        if not isinstance(image, str) or not image.strip():
            raise ConfigError(f"{where} image must be a non-empty string: the image that has this kernel", file=source)
        if not isinstance(install, bool):
            raise ConfigError(f"{where} install must be true or false", file=source)
        entries.append((name, KernelImage(image.strip(), install)))
    return tuple(entries)
