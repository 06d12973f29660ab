"""Kestra versions, and the versions from which a rule the replay follows changed."""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Version:
    major: int
    minor: int

    @classmethod
    def of(cls, text: str | Version) -> Version:
        if isinstance(text, Version):
            return text
        match = re.fullmatch(r"\s*(\d+)\.(\d+)(?:\.\d+)?\s*", str(text))
        if not match:
            raise ValueError(f"not a Kestra version: {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


STDERR_WARNING_UNTIL = Version(0, 23)  # plugin-scripts#233: from 0.23 stderr no longer makes WARNING
PEBBLE_DEFAULTS_SINCE = Version(1, 0)  # FlowInputOutput.resolveDefaultValue renders defaults (K-1.x)
URI_FETCHER_SINCE = Version(1, 0)  # FilesService uses URIFetcher (nsfile://) instead of startsWith("kestra://")
NAMESPACES_PROPERTY_SINCE = Version(0, 22)  # NamespaceFiles.namespaces/folderPerNamespace/ifExists (absent at K@58c1ca2d)
