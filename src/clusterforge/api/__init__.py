"""api — see the package docstring once implemented."""
