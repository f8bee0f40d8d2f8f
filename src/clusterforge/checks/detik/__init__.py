"""detik — see the package docstring once implemented."""
