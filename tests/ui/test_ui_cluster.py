"""The web UI over a real cluster build: kwok, the shipped stage library, DETIK.

One build of a small kwok cluster started from the UI's own "New build" form,
with one validation sentence that cannot hold; then the fleet, the stage
groups, a skipped add-on's reason, the failing sentence in the report table
with its downloads, one stage re-run, and a teardown confirmed by typing the
cluster's name.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.ui.conftest import Served, serve_in, sign_in

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
CLUSTER = "ui-dev"
IMPOSSIBLE = "there are 3 pods named 'no-such-pod'"


@pytest.fixture(scope="module")
def kwok_server(tmp_path_factory: pytest.TempPathFactory, tool_path: Path) -> Iterator[Served]:
    env = {"PATH": f"{tool_path}{os.pathsep}{os.environ.get('PATH', '')}"}
    for served in serve_in(tmp_path_factory.mktemp("ui-kwok"), public_reads=False, env=env):
        try:
            yield served
        finally:
            _tear_down(served)


def _tear_down(served: Served) -> None:
    """However the test ended, the kwok cluster it built does not outlive it."""
    with served.client() as client:
        answer = client.delete(f"/api/v1/clusters/{CLUSTER}")
        if answer.status_code != 202:
            return  # never built, or already gone
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            doc = client.get(f"/api/v1/builds/{answer.json()['id']}").json()
            if doc["status"]["phase"] not in ("Pending", "Running"):
                return
            time.sleep(1)


def _spec() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((ROOT / "examples" / "dev-cluster.yaml").read_text())
    doc["metadata"]["name"] = CLUSTER
    doc["spec"]["nodeGroups"] = [{"name": "general", "instanceType": "m5.large", "desired": 2}]
    doc["spec"]["addons"] = dict.fromkeys(doc["spec"]["addons"], "none")
    doc["spec"]["validation"] = {
        "checks": [IMPOSSIBLE],
        "retries": {"limit": 1, "interval": "1s"},
    }
    return doc


def test_a_kwok_build_from_the_form_to_the_teardown(page: Any, kwok_server: Served) -> None:
    sign_in(page, kwok_server.url)
    page.goto(f"{kwok_server.url}/#/new")
    page.fill("#spec", json.dumps(_spec(), indent=2))
    page.click("button:text-is('Start build')")
    page.wait_for_selector("canvas#graph[data-drawn]")
    page.wait_for_selector(".status .phase:has-text('Failed')", timeout=900_000)
    for stage in ("preflight", "addons", "validation"):  # once the final layout is drawn
        toggle = page.locator(f".group-toggle[data-stage='{stage}']")
        toggle.wait_for()
        assert toggle.count() == 1
    # the failing sentence, in the report table, with its downloads
    row = page.locator("table.report tr", has_text=IMPOSSIBLE)
    row.wait_for()
    assert "failed" in (row.text_content() or "")
    assert page.locator("a:text-is('JUnit XML')").get_attribute("href", timeout=1000)
    # a disabled add-on is skipped, with Argo's reason
    page.fill("#node-search", "fluent-bit")
    page.press("#node-search", "Enter")
    page.wait_for_selector("#node-panel .reason:has-text('evaluated false')")
    # the fleet lists the cluster with its failing sentence
    page.goto(f"{kwok_server.url}/#/fleet")
    fleet_row = page.locator("table.grid tbody tr", has_text=CLUSTER)
    fleet_row.wait_for()
    text = fleet_row.text_content() or ""
    assert "kwok" in text
    assert "general×2" in text
    assert "1 failing" in text
    # re-run one stage from the build page: a new build of that stage opens
    fleet_row.locator("a").first.click()
    page.wait_for_selector("canvas#graph[data-drawn]")
    first_build = page.url
    page.select_option("select[aria-label='Stage to re-run']", "validation")
    page.click("button:text-is('Re-run stage')")
    page.wait_for_function("(before) => location.href !== before", arg=first_build)
    page.wait_for_selector("text=stage validation")
    page.wait_for_selector(".status .phase:has-text('Failed')", timeout=600_000)
    # tear down: the dialog names the cluster and waits for its name
    page.click("button:text-is('Tear down…')")
    page.wait_for_selector(f"dialog h2:has-text('{CLUSTER}')")
    confirm = page.locator(f"dialog button:text-is('Tear down {CLUSTER}')")
    assert confirm.is_disabled()
    page.fill("#confirm-name", CLUSTER)
    confirm.click()
    page.wait_for_selector(".toast:has-text('accepted')")
    with kwok_server.client() as client:
        destroy = client.get("/api/v1/builds", params={"stage": "destroy"}).json()["items"]
    assert [b["cluster"] for b in destroy] == [CLUSTER]
