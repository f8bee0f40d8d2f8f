"""Fixtures for the DETIK tests: a stand-in kubectl with known contents."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from detik_fake import CLUSTER, FakeCluster


@pytest.fixture
def fake(tmp_path: Path) -> FakeCluster:
    """The fixture cluster, served by fake_kubectl.py through DETIK_CLIENT_NAME."""
    cluster = FakeCluster(tmp_path / "kubectl-state.json")
    cluster.load({"resources": CLUSTER})
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DETIK_") and key != "KUBECONFIG"
    }
    env["FAKE_KUBECTL_STATE"] = str(cluster.state)
    env["DETIK_CLIENT_NAME"] = cluster.client
    cluster.env = env
    return cluster
