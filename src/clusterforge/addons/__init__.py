"""addons — see the package docstring once implemented."""
