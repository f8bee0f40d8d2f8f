"""A daemon's readinessProbe against real loopback servers: httpGet and tcpSocket
pass once the server answers; an exec probe is refused with a message."""

from __future__ import annotations

import asyncio
import socket
from urllib.parse import urlparse

import pytest
from tests.conformance.http_server import http_server

from clusterforge.engine.local._operator.daemons import ProbeRefused, wait_ready


def test_http_probe_passes_on_a_2xx_and_waits_through_errors() -> None:
    with http_server() as url:
        port = urlparse(url).port
        asyncio.run(
            asyncio.wait_for(wait_ready({"httpGet": {"path": "/status/204", "port": port}}), 10)
        )
        probe = {"httpGet": {"path": "/status/500", "port": port}, "periodSeconds": 0.1}
        with pytest.raises(TimeoutError):
            asyncio.run(asyncio.wait_for(wait_ready(probe), 1))


def test_tcp_probe_waits_for_a_listener() -> None:
    # bound but not listening: the port stays ours (no other run can take it
    # between the two halves) and connections to it are refused until listen()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        probe = {"tcpSocket": {"port": listener.getsockname()[1]}, "periodSeconds": 0.1}
        with pytest.raises(TimeoutError):
            asyncio.run(asyncio.wait_for(wait_ready(probe), 0.5))
        listener.listen()
        asyncio.run(asyncio.wait_for(wait_ready(probe), 10))


def test_exec_probe_is_refused_with_the_fix() -> None:
    with pytest.raises(ProbeRefused, match="only httpGet and tcpSocket"):
        asyncio.run(wait_ready({"exec": {"command": ["true"]}}))
