"""The files of a task's working directory: namespace files copied in first (``CommandsWrapper.run``,
K@58c1ca2d script/.../runners/CommandsWrapper.java:135-145; K@09229b93 same file,
``NamespaceFilesUtils.loadNamespaceFiles``; K@044883a0 core/.../utils/NamespaceFilesUtils.java), then
``inputFiles`` (rendered once with Pebble, ``PluginUtilsService.transformInputFiles``, K@58c1ca2d
core/.../runners/PluginUtilsService.java:98-118), and after the commands the ``outputFiles``, matched under
the working directory (LocalWorkingDir.java:203-251, FilesService.java:63-78) and kept in internal storage."""
from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .context import ExecutionContext
from .errors import NotEmulated, RenderError
from .jackson import jackson_loads
from .namespace_files import matching_namespace_files, path_matcher
from .pebble import render
from .versions import NAMESPACES_PROPERTY_SINCE, URI_FETCHER_SINCE


def load_namespace_files(ctx: ExecutionContext, task: Mapping[str, Any], workdir: Path) -> None:
    spec = task.get("namespaceFiles")
    if spec is None:
        return
    extra_keys = set(spec) - {"enabled", "include", "exclude"}
    if extra_keys and (ctx.version < NAMESPACES_PROPERTY_SINCE
                       or extra_keys - {"namespaces", "folderPerNamespace", "ifExists"}):
        raise NotEmulated(f"namespaceFiles properties {sorted(extra_keys)}")
    if spec.get("enabled", True) is False:
        return
    if spec.get("ifExists", "OVERWRITE") != "OVERWRITE":
        raise NotEmulated(f"namespaceFiles.ifExists {spec['ifExists']}")
    variables = ctx.base_variables()
    include = [render(p, variables) for p in spec.get("include") or []]
    exclude = [render(p, variables) for p in spec.get("exclude") or []]
    for namespace in [render(n, variables) for n in spec.get("namespaces") or [ctx.namespace]]:
        files = ctx.files_of(namespace)
        for name in matching_namespace_files(files, include, exclude):
            target = workdir / (namespace if spec.get("folderPerNamespace") else "") / name.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(files[name], target)


def write_input_files(ctx: ExecutionContext, task: Mapping[str, Any], workdir: Path,
                      extra: Mapping[str, Any]) -> None:
    spec = task.get("inputFiles")
    if spec is None:
        return
    variables = ctx.variables(task, extra)
    if isinstance(spec, str):  # a JSON string (PluginUtilsService.java:108-114)
        try:
            rendered = jackson_loads(render(spec, variables))
        except ValueError as exc:
            raise RenderError(f"inputFiles is not a JSON map: {exc}") from None
        contents = {str(k): str(v) for k, v in rendered.items()}
    else:
        contents = {render(str(k), variables): render(str(v), variables) for k, v in spec.items() if v is not None}
    for name, content in contents.items():
        if name.startswith(("./", "..", "/")):
            raise RenderError(f"Invalid input file name {name!r}")
        target = workdir / render(name, variables)
        target.parent.mkdir(parents=True, exist_ok=True)
        fetchable = content.startswith("kestra://") or (
            ctx.version >= URI_FETCHER_SINCE and content.startswith(("nsfile://", "file://")))
        if fetchable:
            shutil.copyfile(ctx.fetch(content), target)
        else:
            target.write_bytes(content.encode("utf-8"))  # Files.write(input.getBytes()), UTF-8 JVM


def collect_output_files(ctx: ExecutionContext, task: Mapping[str, Any], workdir: Path,
                         extra: Mapping[str, Any]) -> dict[str, str]:
    patterns = [render(str(p), ctx.variables(task, extra)) for p in task.get("outputFiles") or []]
    if not patterns:
        return {}
    for pattern in patterns:  # PluginUtilsService.validFilename
        if pattern.startswith(("./", "..", "/")):
            raise NotEmulated(f"invalid outputFile {pattern!r}")
    matches = path_matcher(patterns, base=str(workdir))
    found = {}
    for path in sorted(workdir.rglob("*")):
        if path.is_file() and not path.is_symlink() and matches(str(path)):
            name = path.relative_to(workdir).as_posix()
            found[name] = ctx.store(task["id"], path, name)
    return found
