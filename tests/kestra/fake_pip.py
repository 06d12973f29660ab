"""The ``pip`` of the fake container image that the ``replay`` package runs Kestra tasks in (test code).

Kestra's Commands task runs ``beforeCommands`` such as ``pip install --quiet --requirement
requirements.txt`` in a fresh container, which downloads and installs the packages. The replay
harness has no container and must not install anything into the test environment, so this
``pip`` only *checks* that every requirement is already satisfied by the packages the fake image
sees (the test environment minus nbops) and fails, as pip would, when one is not: a requirement
Kestra's pip could not satisfy from the package index (``nbops``, say) fails here too, because the
fake image does not have it either.

The one thing it does install is a local pure-Python wheel the flow ships itself (a namespace or
input file): it is unpacked into ``$FAKE_IMAGE_SITE``, a folder of the replayed task's attempt that
is first on ``PYTHONPATH``, i.e. the throw-away container, never the test environment.

Anything else (another pip command, an option it does not understand, an URL or editable
requirement) exits 97 with ``FAKE-IMAGE-NOT-EMULATED:`` on stderr; the harness turns that into an
error rather than a replay result, so an emulation gap never passes for Kestra's behaviour.
"""
from __future__ import annotations

import os
import sys
import zipfile
from pathlib import Path

NOT_EMULATED = "FAKE-IMAGE-NOT-EMULATED:"
# pip install options that change nothing when every requirement is already there (value-less / with a value)
_FLAGS = {"-q", "--quiet", "-v", "--verbose", "--user", "-U", "--upgrade", "--no-cache-dir", "--break-system-packages",
          "--disable-pip-version-check", "--no-input", "--pre", "--prefer-binary", "--no-warn-script-location",
          "--no-warn-conflicts", "--require-hashes", "--no-deps", "--isolated", "--force-reinstall",
          "--ignore-installed"}
_WITH_VALUE = {"-i", "--index-url", "--extra-index-url", "--root-user-action", "--progress-bar", "--only-binary",
               "--no-binary", "--timeout", "--retries", "--trusted-host", "-f", "--find-links", "--cache-dir",
               "--upgrade-strategy"}


def _not_emulated(what: str) -> int:
    print(f"{NOT_EMULATED} pip {what}", file=sys.stderr)
    return 97


def _requirement_lines(path: Path, seen: set[Path]) -> list[str] | str:
    """The requirement lines of a requirements file (nested ``-r`` followed), or why not emulated."""
    if path in seen:
        return []
    seen.add(path)
    if not path.is_file():
        return f"ERROR: Could not open requirements file: [Errno 2] No such file or directory: '{path}'"
    lines: list[str] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line:
            continue
        if line.startswith(("-r ", "--requirement ")):
            nested = _requirement_lines(path.parent / line.split(None, 1)[1].strip(), seen)
            if isinstance(nested, str):
                return nested
            lines += nested
        elif line.startswith("-"):
            return f"{NOT_EMULATED} pip requirements-file option {line!r}"
        else:
            lines.append(line.split(" --hash", 1)[0].strip())
    return lines


def _install_wheel(wheel: Path, no_deps: bool) -> str | None:
    """Unpack a pure-Python wheel into the task's throw-away site folder; an error message or None."""
    from packaging.requirements import Requirement

    site = os.environ.get("FAKE_IMAGE_SITE")
    if not site:
        return f"{NOT_EMULATED} pip install of a wheel outside a replayed task"
    with zipfile.ZipFile(wheel) as archive:
        info = next((n for n in archive.namelist() if n.endswith(".dist-info/WHEEL")), None)
        if info is None or "Root-Is-Purelib: true" not in archive.read(info).decode():
            return f"{NOT_EMULATED} pip install of the platform wheel {wheel.name}"
        metadata = archive.read(info.replace("/WHEEL", "/METADATA")).decode()
        if not no_deps:
            for line in metadata.splitlines():
                if line.startswith("Requires-Dist:"):
                    requirement = Requirement(line.split(":", 1)[1].strip())
                    if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
                        continue
                    problem = _unsatisfied(str(requirement))
                    if problem:
                        return problem
        archive.extractall(site)
    return None


def _unsatisfied(text: str) -> str | None:
    """Why ``text`` (a PEP 508 requirement) is not satisfied by the fake image, or None."""
    from importlib import metadata

    from packaging.requirements import InvalidRequirement, Requirement

    try:
        requirement = Requirement(text)
    except InvalidRequirement:
        return f"{NOT_EMULATED} pip requirement {text!r}"
    if requirement.url:
        return f"{NOT_EMULATED} pip requirement with an URL {text!r}"
    if requirement.marker is not None and not requirement.marker.evaluate():
        return None
    try:
        installed = metadata.version(requirement.name)
    except metadata.PackageNotFoundError:
        return (f"ERROR: Could not find a version that satisfies the requirement {text} (fake image: "
                f"{requirement.name} is not in the replay's environment)\n"
                f"ERROR: No matching distribution found for {requirement.name}")
    if requirement.specifier and not requirement.specifier.contains(installed, prereleases=True):
        return (f"ERROR: Could not find a version that satisfies the requirement {text} (fake image: "
                f"{requirement.name} {installed} is installed and cannot be changed)")
    return None


def main(argv: list[str]) -> int:
    if argv[:1] in (["--version"], ["-V"]):
        print("pip (fake image: checks requirements, installs nothing)")
        return 0
    if argv[:1] != ["install"]:
        return _not_emulated(" ".join(argv[:1]) or "without a command")
    quiet, no_deps, requirements, wheels = False, False, [], []
    args = argv[1:]
    i = 0
    while i < len(args):
        arg = args[i]
        name, _, inline = arg.partition("=")
        if arg in ("-q", "--quiet", "-qq", "-qqq"):
            quiet = True
        elif arg == "--no-deps":
            no_deps = True
        elif name in ("-r", "--requirement"):
            if not inline:
                i += 1
                inline = args[i] if i < len(args) else ""
            found = _requirement_lines(Path(inline), set())
            if isinstance(found, str):
                print(found, file=sys.stderr)
                return 97 if found.startswith(NOT_EMULATED) else 1
            requirements += found
        elif arg in ("--dry-run",):
            pass
        elif name in _WITH_VALUE:
            i += 0 if inline else 1
        elif arg in _FLAGS:
            pass
        elif arg.startswith("-"):
            return _not_emulated(f"install option {arg!r}")
        elif arg.endswith(".whl") and Path(arg).exists():
            wheels.append(Path(arg))
        elif "/" in arg or arg.startswith(".") or arg.endswith((".tar.gz", ".zip")):
            return _not_emulated(f"install of the path {arg!r}")
        else:
            requirements.append(arg)
        i += 1
    for wheel in wheels:
        problem = _install_wheel(wheel, no_deps)
        if problem:
            print(problem, file=sys.stderr)
            return 97 if problem.startswith(NOT_EMULATED) else 1
    for requirement in requirements:
        if requirement.endswith(".whl") and Path(requirement).exists():
            problem = _install_wheel(Path(requirement), no_deps)
        else:
            problem = _unsatisfied(requirement)
        if problem:
            print(problem, file=sys.stderr)
            return 97 if problem.startswith(NOT_EMULATED) else 1
        if not quiet:
            print(f"Requirement already satisfied: {requirement}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
