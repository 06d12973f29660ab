"""``nbops catalog build | serve | publish``: the MkDocs catalog of the flows (thin: parse, call,
print). Without a ``mkdocs.yml`` the site is built from an embedded configuration (see
``adapters/mkdocs_site.py``) into ``site/``."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..errors import ExitCode
from .base import Surface

if TYPE_CHECKING:
    from ..adapters.project import Project


def add_catalog(commands: Any, surface: Surface) -> None:
    catalog = commands.add_parser("catalog", help="build, serve or publish the flow catalog (MkDocs)",
                                  description="The catalog site of every flow: its inputs, schedule, graph, "
                                              "lineage, YAML, Git history, last runs and executed notebook. Uses "
                                              "the repository's mkdocs.yml (plugins: [nbops]) or a built-in one.")
    actions = catalog.add_subparsers(dest="catalog_command", required=True, metavar="ACTION")
    build = actions.add_parser("build", help="build the site", description="Build the site with MkDocs.")
    _common(build)
    build.add_argument("--site-dir", type=Path, metavar="DIR", help="where to write the site (default: site/)")
    serve = actions.add_parser("serve", help="serve the site, rebuilding when a notebook changes",
                               description="Serve the site locally; a change to a notebook, a flow or the run "
                                           "history rebuilds it. Stop with Ctrl-C.")
    _common(serve)
    serve.add_argument("--dev-addr", metavar="HOST:PORT", help="default 127.0.0.1:8000")
    publish = actions.add_parser("publish", help="build and commit the site to a gh-pages-style branch",
                                 description="Build the site and commit it to a branch without touching the "
                                             "working tree, the index or the checked-out branch; --push pushes it.")
    _common(publish)
    publish.add_argument("--site-dir", type=Path, metavar="DIR", help="where to build the site (default: site/)")
    publish.add_argument("--branch", default="gh-pages", help="the branch holding the site (default: gh-pages)")
    publish.add_argument("-m", "--message", help="the commit message (default: 'Catalog of <HEAD>')")
    publish.add_argument("--push", action="store_true", help="push the branch to origin (never forced)")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--strict", action="store_true", help="fail on any warning, e.g. a flow that does not convert")
    parser.add_argument("-f", "--config-file", type=Path, metavar="FILE",
                        help="the MkDocs configuration (default: mkdocs.yml in the repository, else a built-in one)")


def cmd_catalog(project: Project, args: argparse.Namespace, out: TextIO) -> int:
    from ..adapters import mkdocs_site as site

    if args.catalog_command == "serve":
        site.serve(project.root, config=args.config_file, dev_addr=args.dev_addr, strict=args.strict)
        return ExitCode.OK
    site_dir = args.site_dir.resolve() if args.site_dir else None  # MkDocs would read it from the config's folder
    built = site.build(project.root, config=args.config_file, site_dir=site_dir, strict=args.strict)
    if args.catalog_command == "build":
        print(f"built the catalog in {built}: open {built / 'index.html'}", file=out)
        return ExitCode.OK
    from ..services.catalog_data import publish

    result = publish(project, built, args.branch, push=args.push, message=args.message)
    state = f"committed {result.commit[:10]}" if result.changed else f"unchanged at {result.commit[:10]}"
    print(f"{result.branch}: {state}{', pushed to origin' if result.pushed else ''}", file=out)
    return ExitCode.OK
