"""ui — see the package docstring once implemented."""
