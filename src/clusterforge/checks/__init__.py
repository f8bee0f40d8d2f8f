"""Checks that prove a cluster works before it is handed over.

:mod:`clusterforge.checks.detik` implements the DETIK sentence language
(``verify "there are 2 pods named 'metrics-server'"``) that add-ons declare
their validation in and that the validation stage runs.
"""

from clusterforge.checks import detik

__all__ = ["detik"]
