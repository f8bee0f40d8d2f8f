"""workflow — see the package docstring once implemented."""
