"""The Git commands: ``commit``, ``push``, ``sync``, ``diff``, ``restore`` and ``secrets`` (thin:
parse, call a service, print). A rejected push is an error with its own exit code (``REJECTED``),
mapped in ``failure.py`` as every other."""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..errors import ConfigError, ExitCode, NbopsError
from .base import Surface

if TYPE_CHECKING:
    from ..adapters.project import Project


def add_commit(commands: Any, surface: Surface) -> None:
    commit = commands.add_parser("commit", help="export, check and commit the notebooks and their flows",
                                 description="Export the changed (or given) notebooks, refuse invalid flows, "
                                             "merge conflicts and secrets, strip outputs (by default), and commit "
                                             "exactly those notebooks and flows. Other staged changes are left alone.")
    commit.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="notebooks (default: the changed ones)")
    commit.add_argument("-m", "--message", help="the commit message (default: names the flows)")
    commit.add_argument("--force", action="store_true",
                        help="allow deleting more than [tool.nbops] max_delete_share of the flows")


def add_push(commands: Any, surface: Surface) -> None:
    push = commands.add_parser("push", help="push to origin and report each flow",
                               description="Push HEAD to a branch of origin (created if missing, never forced) and "
                                           "report each flow as ADDED/UPDATED/DELETED/UNCHANGED, as Kestra's "
                                           "PushFlows does. Exit 7 when the remote rejects the push.")
    push.add_argument("--branch", help="the branch on origin (default: the checked-out one)")
    push.add_argument("--dry-run", action="store_true", help="report the plan, push nothing")


def add_sync(commands: Any, surface: Surface) -> None:
    sync = commands.add_parser("sync", help="make notebooks and flows equal to a branch of origin",
                               description="Make the working copy's notebooks and flows equal to a branch, as "
                                           "Kestra's SyncFlows does for an instance. What it would overwrite or "
                                           "delete is saved first under refs/nbops/backup/ (see nbops restore).")
    sync.add_argument("--branch", help="the branch on origin (default: the checked-out one)")
    sync.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    sync.add_argument("--delete", action="store_true", help="delete local files the branch does not have")
    sync.add_argument("--force", action="store_true", help="allow deleting more than [tool.nbops] max_delete_share")


def add_diff(commands: Any, surface: Surface) -> None:
    diff = commands.add_parser("diff", help="flows and notebooks that differ between two sides",
                               description="Unified diffs of flows (YAML) and notebooks (sources; outputs ignored) "
                                           "between A and B: revisions or branches; the working copy when B is left "
                                           "out; HEAD when A is left out too.")
    diff.add_argument("a", nargs="?", metavar="A")
    diff.add_argument("b", nargs="?", metavar="B")
    diff.add_argument("--json", action="store_true", help="machine-readable output")


def add_secrets(commands: Any, surface: Surface) -> None:
    secrets = commands.add_parser("secrets", help="scan notebooks and flows for secrets",
                                  description="Scan notebooks (every string of their JSON: sources, outputs, "
                                              "tracebacks, parameters, metadata, attachments; image data left out) "
                                              "and other text files for secrets with detect-secrets and nbops' "
                                              "notebook rules. Exit 3 when any is found, 2 when a PATH matches no "
                                              "file. --accept records the findings as false positives in "
                                              ".nbops-secrets.json (by file and secret hash).")
    secrets.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="files or folders (default: notebooks "
                                                                              "and flows)")
    secrets.add_argument("--accept", action="store_true", help="accept the findings (write the allow-list)")
    secrets.add_argument("--reason", help="why they are not secrets (required with --accept)")


def add_restore(commands: Any, surface: Surface) -> None:
    restore = commands.add_parser("restore", help="list backups, or put one back",
                                  description="Without REF, list the backups nbops sync made; with REF, write its "
                                              "files back to the working copy.")
    restore.add_argument("ref", nargs="?", metavar="REF")


def cmd_commit(project: Project, args: argparse.Namespace, out: TextIO) -> int:
    from ..services.commit import commit

    result = commit(project, args.paths or None, args.message, force=args.force)
    if result.commit is None:
        print("nothing to commit: HEAD already holds these notebooks and flows (outputs are not committed)",
              file=out)
        return ExitCode.OK
    print(f"committed {result.commit[:12]}: {result.message}", file=out)
    for path in result.files:
        print(f"  {path}", file=out)
    return ExitCode.OK


def cmd_push(project: Project, args: argparse.Namespace, out: TextIO) -> int:
    from ..services.remote import push

    result = push(project, args.branch, args.dry_run)  # a refusal raises PushRejected (ExitCode.REJECTED)
    for change in result.plan:
        print(f"{change.change.value:<10} {change.path}", file=out)
    if args.dry_run:
        print(f"dry run: nothing pushed to {result.branch}", file=out)
    else:
        print(f"pushed {result.commit} to origin/{result.branch}", file=out)
    return ExitCode.OK


def cmd_sync(project: Project, args: argparse.Namespace, out: TextIO) -> int:
    from ..services.remote import sync

    result = sync(project, args.branch, dry_run=args.dry_run, delete=args.delete, force=args.force)
    for change in result.plan:
        print(f"{change.change.value:<11} {change.path}", file=out)
    for path in result.kept:
        print(f"{'KEPT':<11} {path}  (not on the branch; --delete removes it)", file=out)
    if result.backup:
        print(f"the replaced files are saved in {result.backup} (nbops restore {result.backup})", file=out)
    if args.dry_run:
        print("dry run: nothing changed", file=out)
    elif result.moved_to:
        print(f"in sync with origin/{result.branch}; HEAD fast-forwarded to {result.moved_to[:12]}", file=out)
    elif result.stays is None:
        print(f"in sync with origin/{result.branch}", file=out)
    else:
        print(f"in sync with origin/{result.branch}; Git's HEAD stays where it was ({result.stays}):"
              " git status shows the synced files as changes, see docs/git.md#after-a-sync", file=out)
    return ExitCode.OK


def cmd_diff(project: Project, args: argparse.Namespace, out: TextIO) -> int:
    from ..services.gitdiff import diff

    found = diff(project, args.a, args.b)
    if args.json:
        json.dump([f.__dict__ for f in found], out, indent=2)
        print(file=out)
    for item in [] if args.json else found:
        print(item.diff, file=out, end="" if item.diff.endswith("\n") else "\n")
    return ExitCode.OK


def cmd_secrets(project: Project, args: argparse.Namespace, out: TextIO) -> int:
    from ..services.scan import files_to_scan, format_findings, scan_paths, write_allowlist

    paths = [p if p.is_absolute() or p.exists() else project.root / p for p in args.paths] or \
        [project.notebooks_dir, project.flows_dir]
    files = files_to_scan(project.root, paths, strict=bool(args.paths))  # a named PATH matching nothing: exit 2
    unscanned: list[NbopsError] = []
    findings = scan_paths(project.root, files, unscanned)
    for error in unscanned:  # named, and the other files' findings still shown
        print(f"not scanned for secrets: {error}", file=out)
    if args.accept:
        if not args.reason:
            raise ConfigError("--accept needs --reason: say why these are not secrets")
        write_allowlist(project.root, findings, args.reason)
        print(f"accepted {len(findings)} finding(s) in .nbops-secrets.json", file=out)
        return ExitCode.OK
    clean = [] if unscanned else [f"no secrets found in {len(files)} file(s)"]
    for line in format_findings(findings) if findings else clean:
        print(line, file=out)
    return ExitCode.INVALID if findings or unscanned else ExitCode.OK


def cmd_restore(project: Project, args: argparse.Namespace, out: TextIO) -> int:
    from ..services.remote import backups, restore

    if args.ref:
        paths = restore(project, args.ref)
        print(f"restored {len(paths)} file(s) from {args.ref}", file=out)
        return ExitCode.OK
    for ref, date, message in backups(project):
        print(f"{ref}  {date}  {message}", file=out)
    return ExitCode.OK
