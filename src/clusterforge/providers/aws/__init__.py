"""aws — see the package docstring once implemented."""
