"""The pure core imports no I/O library, and importing the package does no heavy work."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

FORBIDDEN = ("papermill", "nbformat", "nbclient", "git", "mkdocs", "IPython", "ipywidgets", "jupyter_client")
# every module of the core, found on disk: a new one cannot slip past the check
CORE_MODULES = tuple(sorted(p.stem for p in (Path(__file__).resolve().parent.parent / "kernel_ext" / "core").glob("*.py")
                            if p.stem != "__init__"))


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
