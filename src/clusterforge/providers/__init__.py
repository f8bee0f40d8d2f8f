"""Providers: the only code that creates, changes or deletes clusters.

Each provider is a subpackage with a small functional surface — ``kwok`` for
local clusters (a real control plane with simulated nodes), ``aws`` for EKS
through CloudFormation. Only :mod:`clusterforge.stages` imports them (an
import-linter contract), so front ends and the engine never touch a cloud.
"""
