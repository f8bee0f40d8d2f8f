"""local — see the package docstring once implemented."""
