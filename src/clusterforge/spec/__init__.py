"""spec — see the package docstring once implemented."""
