"""The MkDocs catalog: a plugin that turns the flow repository into pages (see plugin.py)."""
