"""``python -m clusterforge.cli`` — the same as the ``clusterforge`` command."""

from clusterforge.cli import main

main()
