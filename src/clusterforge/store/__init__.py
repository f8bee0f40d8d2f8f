"""store — see the package docstring once implemented."""
