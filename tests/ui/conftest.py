"""A real ``clusterforge serve`` and Debian's chromium driven by Playwright.

The server is the command users run, in its own process, with its own state
directory, a known token and one sensor: a webhook (``POST
/api/v1/events/ui/staged``) that starts ``workflows/staged.yaml`` — a
build-shaped workflow of four stage groups — with the payload's fields as its
parameters, so a test decides how long a step logs, whether the add-on is
skipped, what (hostile) text the parameters carry and — through a ``gate``
directory — when the long step ends.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.serve_process import start_serve

TOKEN = "ui-test-token-0123456789abcdef"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WORKFLOW = Path(__file__).parent / "workflows" / "staged.yaml"
PARAMETERS = ("title", "logging", "hold", "sentence-fails", "gate")


def write_sensor(directory: Path) -> Path:
    """The webhook sensor that starts the staged workflow with the payload's fields."""
    workflow = yaml.safe_load(WORKFLOW.read_text())
    mappings = [
        {"src": {"dependencyName": "go", "dataKey": f"body.{name}", "value": default["value"]},
         "dest": f"spec.arguments.parameters.{index}.value"}
        for index, (name, default) in enumerate(
            zip(PARAMETERS, workflow["spec"]["arguments"]["parameters"], strict=True)
        )
    ]  # fmt: skip
    sensor = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Sensor",
        "metadata": {"name": "ui-staged"},
        "spec": {
            "dependencies": [{"name": "go", "eventSourceName": "ui", "eventName": "staged"}],
            "triggers": [
                {
                    "template": {
                        "name": "staged",
                        "argoWorkflow": {
                            "operation": "submit",
                            "source": {"resource": workflow},
                            "parameters": mappings,
                        },
                    }
                }
            ],
        },
    }
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "staged.yaml"
    path.write_text(yaml.safe_dump(sensor))
    return path


@dataclass
class Served:
    """A running ``clusterforge serve``; ``restart()`` stops it and starts it again on
    the same port (the page under test stays on that origin)."""

    home: Path
    sensors: Path
    public_reads: bool
    url: str = ""
    process: subprocess.Popen[bytes] | None = None
    extra_env: dict[str, str] | None = None

    def start(self) -> None:
        """Start on a free port (the first time) or on the one it had (a restart)."""
        env = {**os.environ, "CLUSTERFORGE_HOME": str(self.home), "CLUSTERFORGE_TOKENS": TOKEN}
        env.update(self.extra_env or {})
        args = ["--sensor-dir", str(self.sensors), "--workers", "4", "--rate-limit", "0"]
        if self.public_reads:
            args.append("--public-reads")
        port = int(self.url.rsplit(":", 1)[1]) if self.url else None
        self.process, self.url = start_serve(args, env, self.home / "serve.log", port=port)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
        )

    def trigger(self, **payload: Any) -> str:
        """Start the staged workflow; its build id."""
        with self.client() as client:
            answer = client.post("/api/v1/events/ui/staged", json=payload)
            assert answer.status_code == 202, answer.text
            return str(answer.json()["id"])


def serve_in(tmp: Path, public_reads: bool, env: dict[str, str] | None = None) -> Iterator[Served]:
    """A started server with its state under ``tmp``, stopped when the caller is done."""
    sensors = write_sensor(tmp / "sensors").parent
    served = Served(tmp / "home", sensors, public_reads, extra_env=env)
    served.home.mkdir(parents=True)
    served.start()
    try:
        yield served
    finally:
        served.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve_in(tmp_path_factory.mktemp("ui"), public_reads=False)


@pytest.fixture(scope="module")
def public_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve_in(tmp_path_factory.mktemp("ui-public"), public_reads=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: run `make setup` (it installs chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.errors = errors
    try:
        yield page
    finally:
        context.close()


def sign_in(page: Any, url: str, token: str = TOKEN) -> None:
    page.goto(f"{url}/#/login")
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_selector("text=Sign out")
