"""The layers hold: every import in the package, module-level or inside a function, points down.

    entry points   cli.py (main only) · lab/ (magics, card, panel) · catalog/ (the MkDocs plugin)
        commands   each command's parser, handler and printer (the CLI and %nbops share them)
        services   what a command does: export, check, run, batch, commit/push/sync, catalog data
        adapters   the only code that touches files' formats, kernels, Git, SQLite, MkDocs, secrets
        core       pure: the flow model, validation, conversion, YAML, catalog pages

Entry points never import each other; ``errors`` is shared by all. The check reads the source
(``ast``), so a lazy import inside a function cannot slip past it, and it finds every module on
disk, so a new one is checked without being listed.
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "kernel_ext"
LAYERS = ("core", "adapters", "services", "commands", "cli", "lab", "catalog")
# what each layer may import from the package (``errors`` and the package root are open to all)
ALLOWED = {
    "core": {"core"},
    "adapters": {"core", "adapters"},
    "services": {"core", "adapters", "services"},
    "commands": {"core", "adapters", "services", "commands"},
    "cli": {"core", "adapters", "services", "commands", "cli"},
    "lab": {"core", "adapters", "services", "commands", "lab"},
    "catalog": {"core", "adapters", "services", "catalog"},
}
# libraries that do I/O or drive a front end: only adapters (and an entry point its own framework) use them
IO_LIBRARIES = {"papermill", "nbformat", "nbclient", "nbconvert", "jupyter_client", "git", "mkdocs", "material",
                "IPython", "ipywidgets", "ipykernel", "sqlite3", "detect_secrets", "nh3", "dask", "distributed"}
FRAMEWORK_OF = {"lab": {"IPython", "ipywidgets"}, "catalog": {"mkdocs", "material"}}
# the core's only third-party imports: parsers and calendars, no I/O
CORE_THIRD_PARTY = {"yaml", "croniter", "cron_descriptor", "packaging"}
CORE_IO_STDLIB = {"os", "pathlib", "subprocess", "shutil", "tempfile", "socket", "http", "urllib", "glob",
                  "multiprocessing", "threading", "concurrent", "asyncio", "signal", "logging", "sys"}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    target: str  # what it imports, absolute and dotted
    line: int


def _dotted(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _submodule(package: str, name: str) -> str:
    """``from . import x``: the module ``package.x`` when there is one, else a name of ``package``."""
    folder = PACKAGE.parent.joinpath(*package.split("."))
    return f"{package}.{name}" if (folder / name).is_dir() or (folder / f"{name}.py").is_file() else package


def _imports(path: Path) -> list[Import]:
    module = _dotted(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [Import(module, alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            base = base[: len(base) - node.level + 1] if node.level else []
            target = ".".join([*base, *([node.module] if node.module else [])])
            names = [_submodule(target, a.name) for a in node.names] if node.module is None else [target]
            found += [Import(module, name, node.lineno) for name in names]
    return found


def layer_of(module: str) -> str | None:
    """The layer of a ``kernel_ext`` module; None for the shared ``errors`` and the package root."""
    parts = module.split(".")
    if parts[0] != "kernel_ext" or len(parts) == 1 or parts[1] in ("errors", "runtime"):
        return None  # the shared error tree; the standalone outputs helper (it imports nothing of nbops)
    name = parts[1]
    if name == "magics":  # ``%load_ext`` registers the magics: the Lab's own entry point
        return "lab"
    assert name in LAYERS, f"{module} belongs to no layer: add it to a layer folder"
    return name


ALL_IMPORTS = [imp for path in sorted(PACKAGE.rglob("*.py")) for imp in _imports(path)]


def _where(imp: Import) -> str:
    return f"{imp.module} (line {imp.line}) imports {imp.target}"


def test_every_module_belongs_to_a_layer() -> None:
    for path in PACKAGE.rglob("*.py"):
        layer_of(_dotted(path))  # asserts


def test_the_scan_sees_lazy_imports() -> None:
    """The check would be blind without this: the CLI imports its commands inside functions."""
    lazy = [i for i in ALL_IMPORTS if i.module.startswith("kernel_ext.") and i.target.startswith("kernel_ext.")]
    assert len(lazy) > 100


@pytest.mark.parametrize("layer", LAYERS)
def test_layer_imports_only_layers_below_it(layer: str) -> None:
    wrong = [_where(i) for i in ALL_IMPORTS if layer_of(i.module) == layer and i.target.startswith("kernel_ext.")
             and (target := layer_of(i.target)) is not None and target not in ALLOWED[layer]]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("layer", [l for l in LAYERS if l != "adapters"])
def test_only_adapters_use_io_libraries(layer: str) -> None:
    allowed = FRAMEWORK_OF.get(layer, set())
    wrong = [_where(i) for i in ALL_IMPORTS if layer_of(i.module) == layer
             and (root := i.target.split(".")[0]) in IO_LIBRARIES and root not in allowed]
    assert not wrong, "\n".join(wrong)


def test_git_is_reached_only_through_the_git_adapter() -> None:
    wrong = [_where(i) for i in ALL_IMPORTS if i.target.split(".")[0] == "git"
             and not i.module.startswith("kernel_ext.adapters.git.")]
    assert not wrong, "\n".join(wrong)


def test_the_core_imports_only_pure_libraries() -> None:
    stdlib = sys.stdlib_module_names
    wrong = []
    for imp in ALL_IMPORTS:
        root = imp.target.split(".")[0]
        if layer_of(imp.module) != "core" or root in ("kernel_ext", "__future__"):
            continue
        if (root in stdlib and root in CORE_IO_STDLIB) or (root not in stdlib and root not in CORE_THIRD_PARTY):
            wrong.append(_where(imp))
    assert not wrong, "\n".join(wrong)


# -- what actually gets loaded (the static scan above cannot see imports made by third parties) --

FORBIDDEN = ("papermill", "nbformat", "nbclient", "git", "mkdocs", "IPython", "ipywidgets", "jupyter_client")
CORE_MODULES = tuple(sorted(p.stem for p in (PACKAGE / "core").glob("*.py") if p.stem != "__init__"))


def _loaded_after(code: str) -> set[str]:
    script = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True).stdout
    return set(json.loads(out))


@pytest.mark.parametrize("module", CORE_MODULES)
def test_core_module_imports_no_io_library(module: str) -> None:
    loaded = _loaded_after(f"import kernel_ext.core.{module}")
    heavy = {m for m in loaded if m.split(".")[0] in FORBIDDEN}
    assert not heavy, f"kernel_ext.core.{module} pulls in {sorted(heavy)}"


def test_converting_a_notebook_imports_no_io_library() -> None:
    code = (
        "from kernel_ext.core.convert import convert\n"
        "from kernel_ext.core.notebook import Cell, CellKind, NotebookSource\n"
        "from kernel_ext.core.options import Options\n"
        "nb = NotebookSource('notebooks/a.ipynb', (Cell(0, CellKind.CODE, '%%flow\\nschedule: \"0 6 * * *\"\\n'),"
        " Cell(1, CellKind.CODE, 'x = 1', ('parameters',))))\n"
        "assert convert(nb, Options()).ok\n"
    )
    loaded = _loaded_after(code)
    assert not {m for m in loaded if m.split(".")[0] in FORBIDDEN}


def test_importing_the_package_is_light() -> None:
    loaded = _loaded_after("import kernel_ext")
    assert not {m for m in loaded if m.split(".")[0] in (*FORBIDDEN, "yaml", "croniter")}
    assert "kernel_ext.core.convert" not in loaded
