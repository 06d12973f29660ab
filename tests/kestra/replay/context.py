"""The execution being replayed: its flow, inputs and task runs, the variables its templates see, its
namespaces' files, and a local folder standing in for Kestra's internal storage (output files live there,
``kestra://`` and, from 1.0, ``nsfile://`` URIs are read from it: K@58c1ca2d core/.../runners/FilesService.java:24-61;
K@173d2b10 FilesService.java)."""
from __future__ import annotations

import datetime as dt
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import NotEmulated
from .image import FakeImage
from .namespace_files import namespace_files
from .state import TaskRun
from .versions import Version


class ExecutionContext:
    """One replayed execution's state, shared by the tasks that run in it."""

    def __init__(self, flow: Mapping[str, Any], project_root: Path, version: Version, work: Path, image: FakeImage,
                 execution_id: str, echo: bool):
        self.flow, self.project_root, self.version, self.work, self.image = flow, project_root, version, work, image
        self.execution_id, self.echo = execution_id, echo
        self.namespace, self.flow_id = flow["namespace"], flow["id"]
        self.storage = work / "storage"
        self.task_runs: dict[str, TaskRun] = {}
        self.parent_states: list[str] = []
        self._namespace_files: dict[str, dict[str, Path]] = {}
        self.inputs: dict[str, Any] = {}

    # -- context
    def base_variables(self) -> dict[str, Any]:
        return {"flow": {"id": self.flow_id, "namespace": self.namespace, "revision": 1},
                "execution": {"id": self.execution_id, "startDate": dt.datetime.now(dt.UTC).isoformat(),
                              "originalId": self.execution_id},
                "labels": dict(self.flow.get("labels") or {}) if isinstance(self.flow.get("labels"), Mapping) else {}}

    def variables(self, task: Mapping[str, Any], extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        variables = self.base_variables()
        variables["inputs"] = self.inputs
        variables["outputs"] = {tid: run.outputs() for tid, run in self.task_runs.items() if run.attempts}
        variables["task"] = {"id": task["id"], "type": task["type"]}
        variables["taskrun"] = {"id": f"{task['id']}-run", "attemptsCount": 0}
        variables.update(extra or {})
        return variables

    def files_of(self, namespace: str) -> dict[str, Path]:
        if namespace not in self._namespace_files:
            self._namespace_files[namespace] = namespace_files(self.project_root, namespace)
        return self._namespace_files[namespace]

    # -- storage (a local folder standing in for Kestra's internal storage)
    def store(self, task_id: str, path: Path, name: str) -> str:
        key = f"{self.namespace.replace('.', '/')}/{self.flow_id}/executions/{self.execution_id}/tasks/{task_id}/" \
              f"{uuid.uuid4().hex[:12]}-{Path(name).name}"
        target = self.storage / key
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        return "kestra:///" + key

    def fetch(self, uri: str) -> Path:
        if uri.startswith("kestra://"):
            local = self.storage / uri.removeprefix("kestra://").lstrip("/")
            if not local.is_file():
                raise FileNotFoundError(f"{uri} is not in internal storage")
            return local
        if uri.startswith("nsfile://"):
            rest = uri.removeprefix("nsfile://")
            namespace, _, path = rest.partition("/") if not rest.startswith("/") else (self.namespace, "", rest[1:])
            files = self.files_of(namespace or self.namespace)
            if "/" + path not in files:
                raise FileNotFoundError(f"{uri}: no such namespace file")
            return files["/" + path]
        raise NotEmulated(f"input file URI {uri}")
