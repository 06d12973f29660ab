"""The flow repository: its root folder, ``[tool.nbops]`` options and the files nbops owns."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from ..core.kestra_schema import NAMESPACE
from ..core.options import Options
from ..core.requirements import constraint_lines
from ..errors import ConfigError, ConflictError, NbopsError
from .files import read_text

FLOW_SUFFIXES = (".yml", ".yaml")
STATE_FOLDER = ".nbops"  # nbops' local state in a project, git-ignored


@dataclass(frozen=True)
class Project:
    root: Path
    options: Options

    @property
    def notebooks_dir(self) -> Path:
        return self.root / self.options.notebooks

    @property
    def flows_dir(self) -> Path:
        return self.root / self.options.flows

    @property
    def state_dir(self) -> Path:
        """``.nbops/``: the local state (run history, run folders, catalog cache), never committed."""
        return self.root / STATE_FOLDER

    @property
    def history_db(self) -> Path:
        """The run history, an SQLite database (``.nbops/state.db``)."""
        return self.state_dir / "state.db"

    @property
    def runs_dir(self) -> Path:
        """Each execution's folder (``.nbops/runs/<execution>/``): its executed notebooks."""
        return self.state_dir / "runs"

    @property
    def catalog_cache(self) -> Path:
        """Executed notebooks rendered to HTML for the catalog (``.nbops/catalog-cache/``)."""
        return self.state_dir / "catalog-cache"

    def relative(self, path: Path) -> str:
        """Repository-relative POSIX path; refuses paths (and symlinks) that lead outside the repository."""
        resolved = path.resolve() if path.is_absolute() else (Path.cwd() / path).resolve()
        try:
            return resolved.relative_to(self.root.resolve()).as_posix()
        except ValueError:
            raise ConflictError("is outside the repository", file=str(path),
                                hint=f"nbops works on files below {self.root}") from None

    def notebook_paths(self) -> list[Path]:
        """Every flow notebook, sorted: hidden, checkpoint and ``_``-prefixed files are not flows."""
        if not self.notebooks_dir.is_dir():
            return []
        found = [p for p in self.notebooks_dir.rglob("*.ipynb") if _is_flow_notebook(p, self.notebooks_dir)]
        return sorted(found, key=lambda p: p.relative_to(self.notebooks_dir).as_posix())

    def is_flow_notebook(self, path: Path) -> bool:
        """Whether ``path`` is one of :meth:`notebook_paths`, without listing them all."""
        base = self.notebooks_dir.resolve()
        try:
            inside = path.resolve().relative_to(base)
        except ValueError:
            return False
        return path.suffix == ".ipynb" and path.is_file() and not any(p.startswith((".", "_")) for p in inside.parts)

    def flow_paths(self, base: Path | None = None) -> list[Path]:
        base = base or self.flows_dir
        if base.is_file():
            return [base]
        if not base.is_dir():
            return []
        return sorted(p for p in base.rglob("*") if p.suffix in FLOW_SUFFIXES and p.is_file()
                      and not any(part.startswith(".") for part in p.relative_to(base).parts))


def _is_flow_notebook(path: Path, base: Path) -> bool:
    parts = path.relative_to(base).parts
    return not any(p.startswith((".", "_")) for p in parts) and path.is_file()


def find_project(start: Path | None = None) -> Project:
    """The nearest folder at or above ``start`` with a pyproject.toml or .git; its options."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() or (folder / ".git").exists():
            return Project(folder, load_options(folder))
    return Project(here, Options())


def load_options(root: Path) -> Options:
    file = root / "pyproject.toml"
    if not file.is_file():
        return Options()
    try:
        table = tomllib.loads(file.read_text(encoding="utf-8")).get("tool", {}).get("nbops", {})
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", file=str(file)) from None
    options = Options.from_table(table, str(file))
    if not re.match(NAMESPACE, options.namespace):
        raise ConfigError(f"[tool.nbops] namespace {options.namespace!r} is not a Kestra namespace",
                          file=str(file), hint="lowercase letters, digits, '.', '_', '-'")
    for key in ("notebooks", "flows"):
        value = PurePosixPath(getattr(options, key))
        if value.is_absolute() or ".." in value.parts:
            raise ConfigError(f"[tool.nbops] {key} must be a folder inside the repository", file=str(file))
        if any(part.lower() == ".git" for part in value.parts):  # .GIT too: the same folder on macOS/Windows
            raise ConfigError(f"[tool.nbops] {key} = {str(value)!r} is inside .git, Git's own folder", file=str(file),
                              hint="use a folder of the working tree (the defaults are notebooks and _flows)")
    return replace(options, constraint_lines=_constraints(root, options.constraints)) if options.constraints \
        else options


MAX_CONSTRAINTS_BYTES = 1024 * 1024


def _constraints(root: Path, name: str) -> tuple[str, ...]:
    """The lines of ``[tool.nbops] constraints``, a pip constraints file inside the repository."""
    relative = PurePosixPath(name)
    if relative.is_absolute() or ".." in relative.parts:
        raise ConfigError("[tool.nbops] constraints must be a file inside the repository", file=name)
    try:
        text = read_text(root / relative, MAX_CONSTRAINTS_BYTES, name)
    except NbopsError as exc:
        raise ConfigError(f"[tool.nbops] constraints: {exc.message}", file=name,
                          hint="write it with e.g. `pip freeze > constraints.txt` or `uv pip compile`") from None
    lines, problems = constraint_lines(text)
    if problems:
        raise ConfigError("not a pip constraints file nbops can ship: " + "; ".join(problems), file=name,
                          hint="one 'name==version' per line, e.g. from `pip freeze` or `pip-compile --strip-extras`")
    return tuple(lines)
