"""kwok — see the package docstring once implemented."""
