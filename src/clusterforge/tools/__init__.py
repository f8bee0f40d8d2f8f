"""tools — see the package docstring once implemented."""
