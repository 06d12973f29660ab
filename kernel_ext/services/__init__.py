"""Services: what the CLI, the magics, the panel and the MkDocs plugin all call."""
