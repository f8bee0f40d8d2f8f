"""checks — see the package docstring once implemented."""
