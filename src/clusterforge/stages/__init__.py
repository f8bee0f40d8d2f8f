"""stages — see the package docstring once implemented."""
