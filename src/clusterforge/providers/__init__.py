"""providers — see the package docstring once implemented."""
