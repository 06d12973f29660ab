"""The fake container image (see the package README, "The container image is faked").

Docker cannot run here, so a task runs in a process whose environment is this Python environment
*without nbops* (a virtual environment that sees this one's packages except nbops/kernel_ext, with the
same console scripts and the ``python3`` kernelspec). Its ``pip`` is ``fake_pip.py`` (next to this
package): it checks requirements and installs nothing."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

FAKE_PIP = Path(__file__).resolve().parent.parent / "fake_pip.py"  # tests/kestra/fake_pip.py
_PIP_MAIN = "import sys\nfrom fake_pip import main\nsys.exit(main(sys.argv[1:]))\n"
NBOPS_DISTS = ("kernel_ext", "nbops", "__editable__", "_nbops", "__pycache__")


@dataclass(frozen=True)
class FakeImage:
    """The container a Commands task runs in, faked by this Python environment without nbops."""
    root: Path

    @property
    def venv(self) -> Path:
        return self.root / "venv"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def site(self) -> Path:
        return self.root / "site"

    @property
    def shim(self) -> Path:
        return self.root / "shim"

    @classmethod
    def build(cls, root: Path) -> FakeImage:
        image = cls(root)
        image._link_site_packages()
        image._write_pip_package()
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", "--without-pip", str(image.venv)], check=True)
        image._write_console_scripts()
        kernels = Path(sys.prefix) / "share" / "jupyter" / "kernels"  # data files of the ipykernel wheel
        if kernels.is_dir():
            shutil.copytree(kernels, image.venv / "share" / "jupyter" / "kernels")
        return image

    def _link_site_packages(self) -> None:
        """This environment's packages, seen from the image's site folder (nbops, pip and .pth files left out)."""
        self.site.mkdir(parents=True)
        for entry in sorted({Path(sysconfig.get_paths()[k]) for k in ("purelib", "platlib")}):
            for item in entry.iterdir():
                lowered = item.name.lower()
                if lowered.startswith(NBOPS_DISTS) or item.suffix == ".pth" or lowered == "pip" \
                        or lowered.startswith("pip-") or (self.site / item.name).exists():
                    continue
                (self.site / item.name).symlink_to(item)

    def _write_pip_package(self) -> None:
        """A ``pip`` package (for ``python -m pip``) that runs ``fake_pip.py``."""
        (self.shim / "pip").mkdir(parents=True)
        shutil.copy(FAKE_PIP, self.shim / "fake_pip.py")
        (self.shim / "pip" / "__init__.py").write_text("")
        (self.shim / "pip" / "__main__.py").write_text(_PIP_MAIN)

    def _write_console_scripts(self) -> None:
        """The image's console scripts (papermill, jupyter...) on its own Python, and ``pip``/``pip3``."""
        source_bin = Path(sys.executable).parent
        shebang = f"#!{self.python}\n"
        for script in sorted(source_bin.iterdir()):  # the image's console scripts (papermill, jupyter...)
            if script.name.lower().startswith(("nbops", "pip", "activate", "python")) or not script.is_file():
                continue
            try:
                first, rest = script.read_text(encoding="utf-8").split("\n", 1)
            except (UnicodeDecodeError, ValueError):
                continue
            if first.startswith("#!") and "python" in first:
                target = self.venv / "bin" / script.name
                target.write_text(shebang + rest, encoding="utf-8")
                target.chmod(0o755)
        for name in ("pip", "pip3"):
            target = self.venv / "bin" / name
            target.write_text(shebang + _PIP_MAIN)
            target.chmod(0o755)

    def environment(self, container: Path) -> dict[str, str]:
        """The image's own environment for one container (a fresh HOME and site folder each time)."""
        home, site = container / "home", container / "site"
        home.mkdir(parents=True, exist_ok=True)
        site.mkdir(parents=True, exist_ok=True)
        return {"PATH": f"{self.venv / 'bin'}{os.pathsep}/usr/local/bin:/usr/bin:/bin", "HOME": str(home),
                "LANG": "C.UTF-8", "PYTHONPATH": os.pathsep.join(map(str, (site, self.shim, self.site))),
                "FAKE_IMAGE_SITE": str(site)}


@lru_cache(maxsize=1)
def default_image() -> FakeImage:
    """One fake image per test session (built in a temporary folder removed at exit)."""
    import atexit

    root = Path(tempfile.mkdtemp(prefix="kestra-fake-image-"))
    atexit.register(shutil.rmtree, root, True)
    return FakeImage.build(root / "image")
