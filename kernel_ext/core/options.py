"""The one options object: ``[tool.nbops]`` in pyproject.toml, with embedded defaults."""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from ..errors import ConfigError
from .kestra_version import DEFAULT, KestraVersion, version

INSTALL_MODES = ("pip", "image")


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
    max_delete_share: float = 0.5  # nbops sync --delete refuses to delete more of the flows without --force
    kestra_version: str = str(DEFAULT)  # the Kestra the flows are for: export, validate and run follow it
    install: str = "pip"  # "pip": each task installs its requirements.txt; "image": the image has them (nbops image)
    constraints: str = ""  # a pip constraints file at the repository root, shipped with every task (pip install -c)
    base_image: str = "python:3.12-slim"  # what the Dockerfiles `nbops image` writes start FROM
    # the constraints file's lines, read by adapters/project.load_options (not a [tool.nbops] key)
    constraint_lines: tuple[str, ...] = field(default=(), metadata={"loaded": True})

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
            if isinstance(default, bool) or isinstance(default, float):
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
