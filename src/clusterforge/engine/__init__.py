"""engine — see the package docstring once implemented."""
