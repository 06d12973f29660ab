"""Namespace files and Kestra's ``PathMatcherPredicate`` rules (see the package README, "Namespace files").

The match is ``PathMatcherPredicate.builder().includes().excludes()`` (K@58c1ca2d
core/.../storages/Namespace.java:69-75) against each file's path **with a leading slash** (K@58c1ca2d
core/.../storages/InternalNamespace.java:112-114); a pattern without ``glob:``/``regex:`` that starts with a
word character gets ``**/`` in front (K@58c1ca2d core/.../utils/PathMatcherPredicate.java:90-113), then Java's
glob rules apply (:mod:`.globs`)."""
from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from .errors import NotEmulated
from .globs import java_glob_regex


def kestra_pattern(pattern: str, base: str | None = None) -> str:
    """The ``syntax:pattern`` PathMatcherPredicate builds from a pattern (PathMatcherPredicate.java:90-113)."""
    if pattern.startswith(("glob:", "regex:")):
        return pattern
    if base is not None:
        full = base + (pattern if pattern.startswith(("/", "\\")) else "/" + pattern)
    else:
        full = "**/" + pattern if re.match(r"[A-Za-z0-9_]", pattern) else pattern  # "\\w+[\\s\\S]*"
    return "glob:" + full.replace("\\", "/")


def path_matcher(patterns: Sequence[str], base: str | None = None) -> Callable[[str], bool]:
    """``PathMatcherPredicate.matches(base, patterns)``: does any pattern match the path string?"""
    compiled = []
    for pattern in patterns:
        syntax, _, body = kestra_pattern(pattern, base).partition(":")
        compiled.append(re.compile(java_glob_regex(body) if syntax == "glob" else body))
    return lambda path: any(c.fullmatch(path) for c in compiled)


def include_exclude(include: Sequence[str] | None, exclude: Sequence[str] | None) -> Callable[[str], bool]:
    """``PathMatcherPredicate.builder().includes(..).excludes(..).build()`` (PathMatcherPredicate.java:67-78)."""
    inc = path_matcher(include) if include else None
    exc = path_matcher(exclude) if exclude else None
    return lambda path: (inc is None or inc(path)) and (exc is None or not exc(path))


def namespace_folder(project_root: Path, namespace: str) -> Path:
    """The folder SyncNamespaceFiles copies into ``namespace`` (``gitops_flow.py``: notebooks/<child path>)."""
    from kernel_ext.adapters.project import load_options

    options = load_options(project_root)
    if namespace != options.namespace and not namespace.startswith(options.namespace + "."):
        raise NotEmulated(f"namespace {namespace} is not under the project's root namespace {options.namespace}")
    child = namespace.removeprefix(options.namespace).strip(".").replace(".", "/")
    return project_root / options.notebooks / child


def namespace_files(project_root: Path, namespace: str) -> dict[str, Path]:
    """The namespace's files, keyed by their path with a leading slash (as Kestra matches them)."""
    folder = namespace_folder(project_root, namespace)
    if not folder.is_dir():
        return {}
    if any(folder.rglob(".kestraignore")):
        raise NotEmulated(".kestraignore")
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z", "--", "."], cwd=folder,
                            capture_output=True, check=False)
    if listed.returncode == 0:
        candidates = [folder / name for name in listed.stdout.decode().split("\0") if name]
    else:  # not a Git work tree: every file
        candidates = [p for p in folder.rglob("*") if p.is_file()]
    files = {}
    for path in candidates:
        if path.is_file() and not str(path).endswith((".git", ".gitignore", ".gitkeep")):  # AbstractSyncTask:92-105
            files["/" + path.relative_to(folder).as_posix()] = path
    return dict(sorted(files.items()))


def matching_namespace_files(files: Mapping[str, Path], include: Sequence[str] | None,
                             exclude: Sequence[str] | None) -> list[str]:
    keep = include_exclude(include, exclude)
    return [name for name in files if keep(name)]
