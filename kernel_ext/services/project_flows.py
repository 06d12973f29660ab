"""Read the project's notebooks and convert them (no writing): shared by export and check."""
from __future__ import annotations

import logging
import os
import posixpath
from collections import defaultdict
from dataclasses import replace
from functools import partial
from pathlib import Path

from ..adapters.files import runtime_module_text
from ..adapters.notebooks import read_notebook
from ..adapters.project import Project
from ..core.convert import Conversion, convert
from ..core.identity import FlowIdentity, flow_identity
from ..core.notebook import NotebookSource
from ..errors import ConfigError, InvalidError, NbopsError, Problem

log = logging.getLogger(__name__)


def _failed(display: str, problems: tuple[Problem, ...]) -> Conversion:
    return Conversion(NotebookSource(display, ()), problems)


def convert_notebook(project: Project, path: Path, *, render: bool = True) -> Conversion:
    """Read and convert one notebook; reading errors become the conversion's problems. Without
    ``render``, the YAML text is not written (see :func:`~kernel_ext.core.convert.convert`)."""
    try:
        display = project.relative(path)
    except NbopsError as exc:  # e.g. a symlink that leads outside the repository
        return _failed(os.path.relpath(path, project.root), (Problem(exc.message, hint=exc.hint),))
    try:
        notebook = read_notebook(path, display)
    except InvalidError as exc:
        return _failed(display, exc.problems)
    except NbopsError as exc:
        return _failed(display, (Problem(exc.message, hint=exc.hint),))
    return convert_source(project, path, notebook, render=render)


def convert_source(project: Project, path: Path, notebook: NotebookSource, *, render: bool = True) -> Conversion:
    """Convert a notebook already in memory (the saved file at ``path``, or JupyterLab's newer
    header over it); its pipeline steps are read from disk beside it."""

    def load_step(step: str) -> NotebookSource | None:
        step_path = path.parent / step
        try:
            return read_notebook(step_path, project.relative(step_path)) if step_path.is_file() else None
        except NbopsError:
            return None  # reported as a missing/unreadable step by the converter

    return convert(notebook, project.options, load_step, render=render, runtime=runtime_module_text())


def identify(project: Project, path: Path) -> FlowIdentity | None:
    """The flow a notebook defines, from its ``%%flow`` cell alone (no conversion: its parameters and
    steps are not read); None when the notebook cannot be read."""
    try:
        return flow_identity(read_notebook(path, project.relative(path)), project.options)
    except NbopsError:
        return None


def expand_notebooks(project: Project, paths: list[Path] | None) -> list[Path]:
    """Explicit files and folders → notebook files; nothing given → every flow notebook."""
    if not paths:
        return project.notebook_paths()
    found: list[Path] = []
    for given in paths:
        path = given if given.exists() or given.is_absolute() else project.root / given  # or relative to -C
        if not path.exists():
            raise ConfigError("no such file or folder", file=str(given))
        if not path.resolve().is_relative_to(project.root.resolve()):
            raise ConfigError("is outside the repository", file=str(path), hint=f"nbops works below {project.root}")
        if path.is_dir():
            found += [p for p in project.notebook_paths() if p.resolve().is_relative_to(path.resolve())]
        elif path.suffix == ".ipynb":
            if not project.is_flow_notebook(path):
                raise ConfigError(f"is not a flow notebook: flows are the notebooks below {project.options.notebooks}/ "
                                 "whose names do not start with '_' or '.'", file=str(path),
                                 hint="'_' notebooks are pipeline steps; export the pipeline notebook instead")
            found.append(path)
        else:
            raise ConfigError("is not a notebook or a folder", file=str(path), hint="pass .ipynb files or folders")
    return sorted(set(found), key=lambda p: os.path.relpath(p, project.root))


PARALLEL_FROM = 200  # below this many notebooks, starting worker processes costs more than it saves


def worker_count(notebooks: int, jobs: int | None = None) -> int:
    """Worker processes for ``notebooks`` conversions: ``jobs`` if given, else one per core for
    large repositories. Forking needs the 'fork' start method (Linux); elsewhere stay serial."""
    import multiprocessing  # here, not at the top: the %%flow card converts one notebook and needs no pool

    if jobs is not None:
        return max(1, jobs)
    if notebooks < PARALLEL_FROM or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(os.cpu_count() or 1, notebooks // (PARALLEL_FROM // 2)))


def _lean_conversion(project: Project, path: Path) -> Conversion:
    return convert_notebook(project, path).lean()


def _sourceless_conversion(project: Project, path: Path) -> Conversion:
    return convert_notebook(project, path).without_sources()


def convert_all(project: Project, paths: list[Path] | None = None, *, lean: bool = False,
                sources: bool = True, jobs: int | None = None) -> list[Conversion]:
    """Convert notebooks in path order, then mark two notebooks that claim the same flow.
    ``lean`` conversions (see :meth:`Conversion.lean`) are what export and check need, and
    conversions without ``sources`` what the catalog needs; for a large repository both are made
    in worker processes (conversion is pure: same result). Full conversions stay in-process."""
    files = expand_notebooks(project, paths)
    convert_one = _lean_conversion if lean else _sourceless_conversion if not sources else convert_notebook
    workers = worker_count(len(files), jobs) if convert_one is not convert_notebook else 1
    if workers == 1:
        conversions = [convert_one(project, p) for p in files]
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            chunk = max(1, len(files) // (workers * 8))
            conversions = list(pool.map(partial(convert_one, project), files, chunksize=chunk))
    return mark_collisions(conversions)


def mark_collisions(conversions: list[Conversion]) -> list[Conversion]:
    """Two notebooks that claim one flow (namespace and id) or one flow file (folders ``c./`` and
    ``c/``, or ``a..b/`` and ``a/b/``, give different namespaces but the same file) both fail; flow
    files that differ only by case are warned about (one file on a case-insensitive file system)."""
    owners: dict[object, list[int]] = defaultdict(list)
    for index, conv in enumerate(conversions):
        if conv.flow_key is not None and conv.flow_path is not None:
            owners[conv.flow_key].append(index)
            owners[posixpath.normpath(conv.flow_path)].append(index)
    _warn_about_case(conversions)
    sharing: dict[int, set[int]] = defaultdict(set)
    for indices in owners.values():
        for i in indices:
            sharing[i].update(j for j in indices if j != i)
    result = list(conversions)
    for i, others in sharing.items():
        if not others:
            continue
        conv = conversions[i]
        names = ", ".join(conversions[j].notebook.path for j in sorted(others))
        same_file = any(conversions[j].flow_key != conv.flow_key for j in others)
        problem = Problem(f"flow {conv.namespace}.{conv.flow_id} is also claimed by {names}"
                          + (f", whose flow is the same file {posixpath.normpath(conv.flow_path or '')}"
                             if same_file else ""), "id",
                          hint="give one of them another id: in its %%flow cell, or rename its folder")
        result[i] = replace(conv, problems=(problem,), document=None, flow=None, flow_path=None,
                            text=None, untagged=(), pipeline=None)
    return result


def _warn_about_case(conversions: list[Conversion]) -> None:
    """Kestra's flow ids are case-sensitive (namespaces are lowercase), but ``Daily.yml`` and
    ``daily.yml`` are one file on macOS and Windows: warn, do not fail."""
    files: dict[str, set[str]] = defaultdict(set)
    for conv in conversions:
        if conv.flow_key is not None and conv.flow_path is not None:
            files[posixpath.normpath(conv.flow_path).lower()].add(posixpath.normpath(conv.flow_path))
    for paths in files.values():
        if len(paths) > 1:
            owners = [c.notebook.path for c in conversions if c.flow_path and posixpath.normpath(c.flow_path) in paths]
            log.warning("flow files %s differ only by case: they are one file on a case-insensitive file system "
                        "(macOS, Windows); notebooks %s", ", ".join(sorted(paths)), ", ".join(owners))
