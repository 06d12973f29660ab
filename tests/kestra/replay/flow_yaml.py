"""Flow YAML read as Kestra reads it (Jackson's YAML: only true/false are booleans, dates stay text)."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from .errors import NotEmulated


class _KestraYamlLoader(yaml.SafeLoader):
    """Jackson's YAML reading of scalars: only true/false are booleans, dates stay text."""


_KestraYamlLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag not in ("tag:yaml.org,2002:bool",
                                                                     "tag:yaml.org,2002:timestamp")]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_KestraYamlLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                        list("tTfF"))


def load_flow(source: Path | str) -> dict[str, Any]:
    text = Path(source).read_text(encoding="utf-8") if isinstance(source, Path) else source
    flow = yaml.load(text, Loader=_KestraYamlLoader)
    if not isinstance(flow, dict):
        raise NotEmulated("not a flow document")
    return flow
