"""The ``nbops`` command line: thin, it parses arguments, calls a service and prints the result."""
from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from . import __version__, cli_catalog, cli_demo, cli_git, cli_lab, cli_runs
from .errors import InvalidError, NbopsError

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INVALID = 0, 1, 2, 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nbops", description="Run Jupyter notebooks as Kestra flows, the GitOps way.",
        epilog="Run 'nbops COMMAND --help' for a command's options.")
    parser.add_argument("--version", action="version", version=f"nbops {__version__}")
    parser.add_argument("-C", "--repo", type=Path, default=None, metavar="DIR",
                        help="the flow repository (default: the nearest folder with pyproject.toml or .git)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what nbops does")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    export = commands.add_parser("export", help="write _flows/ from the notebooks",
                                 description="Convert notebooks to Kestra flows under _flows/. Every notebook is "
                                             "validated first; nothing is written if any fails.")
    export.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="notebooks or folders (default: all)")
    export.add_argument("--keep-going", action="store_true", help="write the valid flows even if some notebooks fail")
    export.add_argument("--dry-run", action="store_true", help="say what would change, write nothing")
    export.add_argument("--json", action="store_true", help="machine-readable output")
    export.add_argument("--gitops-flow", action="store_true",
                        help="also write, per namespace, a gitops_sync flow that keeps Kestra equal to this repository")
    export.add_argument("--branch", help="the branch Kestra follows (default: the checked-out one)")

    validate = commands.add_parser("validate", help="validate Kestra flow YAML files",
                                   description="Validate any Kestra flow YAML (hand-written or generated) against "
                                               "Kestra's rules, reporting every problem of every file.")
    validate.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="files or folders (default: _flows/)")
    validate.add_argument("--json", action="store_true", help="machine-readable output")

    check = commands.add_parser("check", help="the CI gate: valid, no drift, no orphans",
                                description="Fail when a notebook does not convert (exit 3), a committed flow "
                                            "differs from its notebook or is missing (4), a generated flow has no "
                                            "notebook (5), a header cell lacks the skip-execution tag (6), or a secret is found (8).")
    check.add_argument("--json", action="store_true", help="machine-readable output")

    new = commands.add_parser("new", help="create a flow notebook",
                              description="Create notebooks/NAME.ipynb from the template, or from an existing "
                                          "Kestra flow's inputs and triggers with --from-flow.")
    new.add_argument("name", nargs="?", help="e.g. sales_report or finance/monthly")
    new.add_argument("--from-flow", type=Path, metavar="FILE", help="a Kestra flow YAML to start from")
    cli_runs.add_commands(commands)
    cli_git.add_commands(commands)
    cli_catalog.add_commands(commands)
    cli_demo.add_commands(commands)
    cli_lab.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    from .adapters.project import find_project  # lazy: `nbops --help` stays instant

    try:
        project = find_project(args.repo)
        handler = {"export": _export, "validate": _validate, "check": _check, "new": _new, "run": cli_runs.cmd_run,
                   "runs": cli_runs.cmd_runs, "show": cli_runs.cmd_show, "batch": cli_runs.cmd_batch,
                   "commit": cli_git.cmd_commit, "push": cli_git.cmd_push, "sync": cli_git.cmd_sync,
                   "diff": cli_git.cmd_diff, "restore": cli_git.cmd_restore,
                   "secrets": cli_git.cmd_secrets, "catalog": cli_catalog.cmd_catalog,
                   "demo": cli_demo.cmd_demo, "lab-setup": cli_lab.cmd_lab_setup}[args.command]
        return handler(project, args, out)
    except InvalidError as exc:
        print(str(exc), file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # `nbops runs | head`: the reader has gone, which is fine
        sys.stderr.close()
        return EXIT_OK
    except NbopsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code


def _print_problems(file: str, problems: Sequence[object], out: TextIO) -> None:
    for problem in problems:
        print(problem.render(file), file=out)  # type: ignore[attr-defined]


def _export(project, args, out: TextIO) -> int:  # type: ignore[no-untyped-def]
    from .services.export import export

    result = export(project, args.paths or None, keep_going=args.keep_going, dry_run=args.dry_run,
                    gitops=args.gitops_flow, branch=args.branch)
    if args.json:
        json.dump({"written": result.written, "gitops": result.gitops, "unchanged": result.unchanged,
                   "aborted": result.aborted,
                   "tagged": [{"notebook": n, "cells": list(c)} for n, c in result.tagged],
                   "failed": [{"notebook": c.notebook.path, "problems": [p.to_json() for p in c.problems]}
                              for c in result.failed], "dry_run": args.dry_run}, out, indent=2)
        print(file=out)
        return EXIT_INVALID if result.failed else EXIT_OK
    for conv in result.failed:
        _print_problems(conv.notebook.path, conv.problems, out)
    verb = "would write" if args.dry_run else "wrote"
    for path in [*result.written, *result.gitops]:
        print(f"{verb} {path}", file=out)
    for notebook, cells in result.tagged:
        print(f"{'would tag' if args.dry_run else 'tagged'} {notebook} cells {list(cells)} with skip-execution "
              "(papermill skips them; nbops needs none of them at run time)", file=out)
    if result.aborted:
        print(f"nothing written: {len(result.failed)} notebook(s) failed (fix them, or use --keep-going)", file=out)
    else:
        failed = f", {len(result.failed)} failed and skipped (--keep-going)" if result.failed else ""
        print(f"{len(result.written)} {'to write' if args.dry_run else 'written'}, {len(result.unchanged)} unchanged"
              f"{failed}", file=out)
    return EXIT_INVALID if result.failed else EXIT_OK


def _validate(project, args, out: TextIO) -> int:  # type: ignore[no-untyped-def]
    from .services.validate import validate_files

    results = validate_files(project, args.paths or None)
    bad = [r for r in results if r.problems]
    if args.json:
        json.dump({"files": [{"file": r.file, "valid": not r.problems, "problems": [p.to_json() for p in r.problems]}
                             for r in results]}, out, indent=2)
        print(file=out)
    else:
        for result in bad:
            _print_problems(result.file, result.problems, out)
        print(f"{len(results) - len(bad)} valid, {len(bad)} invalid", file=out)
    return EXIT_INVALID if bad else EXIT_OK


def _check(project, args, out: TextIO) -> int:  # type: ignore[no-untyped-def]
    from .services.check import check

    report = check(project)
    if args.json:
        json.dump({"ok": not report.findings, "exit_code": report.exit_code, "notebooks": report.notebooks,
                   "flows": report.flows, "findings": [f.to_json() for f in report.findings]}, out, indent=2)
        print(file=out)
        return report.exit_code
    for finding in report.findings:
        print(f"[{finding.kind.name.lower()}] {finding.file}", file=out)
        _print_problems(finding.file, finding.problems, out)
        if finding.diff:
            print(finding.diff, file=out)
    status = "ok" if not report.findings else f"{len(report.findings)} problem(s)"
    print(f"check: {report.notebooks} notebooks, {report.flows} flow files: {status}", file=out)
    return report.exit_code


def _new(project, args, out: TextIO) -> int:  # type: ignore[no-untyped-def]
    from .services.scaffold import new_from_flow, new_notebook

    if args.from_flow:
        path, note = new_from_flow(project, args.from_flow, args.name)
        if note:
            print(f"note: {note}", file=out)
    elif args.name:
        path = new_notebook(project, args.name)
    else:
        print("error: give a NAME, or --from-flow FILE", file=sys.stderr)
        return EXIT_USAGE
    print(f"created {project.relative(path)}", file=out)
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
