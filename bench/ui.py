"""Web UI: first full render, pan/zoom frames and live updates at 50 → 20,000 nodes.

A real ``clusterforge serve`` (own process, loopback) and Debian's chromium
driven by Playwright. Each workflow is a fan-out/fan-in DAG written straight
into the server's store (running that many real steps would measure the
engine, and ``bench/engine.py`` does): ``start`` → ``work`` (a loop of N items)
→ ``end``, stored as a Running workflow owned by another engine so the server
leaves it alone. For each size:

* first render — a fresh tab opens ``/#/builds/ID`` (already signed in) and we
  read the page's ``cf-graph-drawn`` mark: navigation start → every node laid
  out (Web Worker) and drawn on the canvas, JS modules, session, the Argo
  document fetch and parse included;
* pan/zoom — 40 wheel zooms and 40 drags through Playwright's real mouse at
  the fitted view and at 1:1 zoom; a frame is one canvas draw (``cf-draw``
  measures) and we also record the gaps between animation frames;
* live — a writer thread moves item nodes Pending → Running → Succeeded at
  200 node updates/s for 10 s through the store's own API; the page follows
  the build's SSE endpoint; we record every animation-frame gap (the longest
  is the worst pause a user could see) and check every update arrived.

Ratios are to the 50-node DAG of the same run. Argo's UI, the peer, hangs at
2,000 to 4,000 nodes (argo-workflows #2367, #13843). Writes
``bench/results/ui.json``. Usage: ``python bench/ui.py [--sizes 50,500,5000,20000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from clusterforge.store import NodeRecord, Store, WorkflowRecord, event_of

RESULTS = Path(__file__).parent / "results"
TOKEN = secrets.token_urlsafe(24)  # a fresh token per run
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
FOREIGN_OWNER = "bench-writer-host:1:1"  # another machine's engine: the server never claims it
UPDATES_PER_S = 200
LIVE_SECONDS = 10


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def fan_workflow(store: Store, size: int) -> tuple[str, list[NodeRecord]]:
    """A stored Running fan-out/fan-in workflow of ``size`` nodes; its id and item nodes."""
    wid = f"fan-{size}-{uuid.uuid4().hex[:5]}"
    items = size - 4
    template = {"name": "main", "dag": {"tasks": [
        {"name": "start", "template": "step"},
        {"name": "work", "template": "step", "dependencies": ["start"],
         "withSequence": {"count": str(items)}},
        {"name": "end", "template": "step", "dependencies": ["work"]},
    ]}}  # fmt: skip
    manifest = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
                "metadata": {"name": wid},
                "spec": {"entrypoint": "main", "templates": [
                    template, {"name": "step", "container": {"image": "alpine"}}]}}  # fmt: skip
    now = time.time()
    store.create_workflow(
        WorkflowRecord(
            id=wid,
            name=wid,
            namespace="default",
            uid=str(uuid.uuid4()),
            manifest=manifest,
            phase="Running",
            created_at=now,
            started_at=now,
            owner=FOREIGN_OWNER,
            heartbeat=now,
        )
    )
    item_nodes = [
        NodeRecord(
            wid,
            f"{wid}-i{i}",
            f"{wid}.work({i}:{i})",
            f"work({i}:{i})",
            "Pod",
            "step",
            "Pending",
            boundary_id=wid,
        )
        for i in range(items)
    ]
    group = NodeRecord(wid, f"{wid}-work", f"{wid}.work", "work", "TaskGroup", "step", "Running",
                       boundary_id=wid, children=[n.id for n in item_nodes])  # fmt: skip
    start = NodeRecord(wid, f"{wid}-start", f"{wid}.start", "start", "Pod", "step", "Succeeded",
                       boundary_id=wid, started_at=now, finished_at=now)  # fmt: skip
    end = NodeRecord(wid, f"{wid}-end", f"{wid}.end", "end", "Pod", "step", "Pending",
                     boundary_id=wid)  # fmt: skip
    root = NodeRecord(wid, wid, wid, wid, "DAG", "main", "Running", started_at=now,
                      children=[start.id, group.id, end.id])  # fmt: skip
    store.put_nodes([root, start, group, *item_nodes, end])
    return wid, item_nodes


def start_server(home: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CLUSTERFORGE_HOME": str(home), "CLUSTERFORGE_TOKENS": TOKEN}
    log = (home / "serve.log").open("ab")
    argv = [sys.executable, "-m", "clusterforge.cli", "serve", "--port", str(port),
            "--rate-limit", "0", "--workers", "1"]  # fmt: skip
    server = subprocess.Popen(argv, env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit(f"clusterforge serve did not start; see {home / 'serve.log'}")


_FRAME_RECORDER = """() => {
  window.__gaps = []; let last = performance.now();
  const tick = (now) => { window.__gaps.push(now - last); last = now;
                          if (!window.__stopFrames) requestAnimationFrame(tick); };
  window.__stopFrames = false; requestAnimationFrame(tick);
  performance.clearMeasures('cf-draw');
}"""
_FRAME_READ = """() => { window.__stopFrames = true;
  return {gaps: window.__gaps.slice(1),
          draws: performance.getEntriesByName('cf-draw').map(e => e.duration)}; }"""


def _frames(page: Any) -> dict[str, float]:
    data = page.evaluate(_FRAME_READ)
    gaps, draws = data["gaps"] or [0.0], data["draws"] or [0.0]
    return {
        "draw_median_ms": round(statistics.median(draws), 2),
        "draw_max_ms": round(max(draws), 2),
        "frame_gap_median_ms": round(statistics.median(gaps), 2),
        "frame_gap_max_ms": round(max(gaps), 2),
        "draws": len(draws),
    }


def first_render(context: Any, url: str, wid: str) -> tuple[Any, dict[str, float]]:
    page = context.new_page()
    page.goto(f"{url}/#/builds/{wid}")
    page.wait_for_selector("canvas#graph[data-drawn]", timeout=120_000)
    marks = page.evaluate("""() => ({
        drawn: performance.getEntriesByName('cf-graph-drawn')[0].startTime,
        page: performance.getEntriesByName('cf-build-page')[0].startTime,
        fetch: performance.getEntriesByName('cf-doc-fetch')[0].duration,
        layout: performance.getEntriesByName('cf-layout')[0].duration})""")
    parts = {k: round(float(v), 1) for k, v in marks.items()}
    return page, parts


def pan_zoom(page: Any) -> dict[str, float]:
    box = page.locator("canvas#graph").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.evaluate(_FRAME_RECORDER)
    for scale in ("fit", "close"):
        if scale == "close":
            for _ in range(12):
                page.mouse.wheel(0, -400)
                page.wait_for_timeout(16)
        for i in range(40):
            page.mouse.wheel(0, 120 if i % 2 else -120)
            page.wait_for_timeout(16)
        for i in range(40):
            page.mouse.move(cx, cy)
            page.mouse.down()
            page.mouse.move(cx + (60 if i % 2 else -60), cy + 30, steps=4)
            page.mouse.up()
    page.wait_for_timeout(100)
    return _frames(page)


def live_updates(page: Any, store: Store, items: list[NodeRecord]) -> dict[str, Any]:
    page.evaluate(_FRAME_RECORDER)
    sent = 0
    stop = time.monotonic() + LIVE_SECONDS
    plan = [(n, p) for n in items for p in ("Running", "Succeeded")]
    started = time.monotonic()
    batch = 10  # updates per write: 20 writes a second
    while time.monotonic() < stop and sent < len(plan):
        chunk = plan[sent : sent + batch]
        now = time.time()
        for node, phase in chunk:
            node.phase = phase
            if phase == "Running":
                node.started_at = now
            else:
                node.finished_at = now
        store.put_nodes([n for n, _ in chunk], [event_of(n) for n, _ in chunk])
        sent += len(chunk)
        due = started + sent / UPDATES_PER_S
        time.sleep(max(0.0, due - time.monotonic()))
    elapsed = time.monotonic() - started
    last = plan[sent - 1][0]
    expected = "Succeeded" if plan[sent - 1][1] == "Succeeded" else "Running"
    page.fill("#node-search", last.display_name)
    page.press("#node-search", "Enter")
    page.wait_for_selector(f"#node-panel .phase:has-text('{expected}')", timeout=30_000)
    frames = _frames(page)
    return {"updates": sent, "rate_per_s": round(sent / elapsed, 1), **frames,
            "last_update_shown": True}  # fmt: skip


def run(sizes: list[int]) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    home = Path(tempfile.mkdtemp(prefix="cf-bench-ui-"))
    port = _free_port()
    store = Store(home / "state.db")
    workflows = {size: fan_workflow(store, size) for size in sizes}
    server = start_server(home, port)
    url = f"http://127.0.0.1:{port}"
    out: dict[str, Any] = {}
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                                  args=CHROMIUM_ARGS)  # fmt: skip
            context = chromium.new_context(viewport={"width": 1400, "height": 900})
            login = context.new_page()
            login.goto(f"{url}/#/login")
            login.fill("#token", TOKEN)
            login.click("button[type=submit]")
            login.wait_for_selector("text=Sign out")
            login.close()
            for size in sizes:
                wid, items = workflows[size]
                page, marks = first_render(context, url, wid)
                result: dict[str, Any] = {
                    "nodes": size,
                    "first_render_ms": marks["drawn"],
                    "first_render_parts_ms": {
                        "scripts_and_session": marks["page"],
                        "document_fetch": marks["fetch"],
                        "layout_in_worker": marks["layout"],
                    },
                }
                result["pan_zoom"] = pan_zoom(page)
                result["live"] = live_updates(page, store, items)
                page.close()
                out[str(size)] = result
                print(json.dumps(result), flush=True)
            chromium.close()
    finally:
        server.terminate()
        server.wait(timeout=15)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sizes", default="50,500,5000,20000")
    args = parser.parse_args()
    sizes = sorted({int(s) for s in args.sizes.split(",")} | {50})
    runs = run(sizes)
    base = runs["50"]
    for r in runs.values():
        r["ratio_to_50"] = {
            "first_render": round(r["first_render_ms"] / base["first_render_ms"], 2),
            "pan_zoom_draw_median": round(
                r["pan_zoom"]["draw_median_ms"] / max(base["pan_zoom"]["draw_median_ms"], 0.01), 2
            ),
            "live_frame_gap_max": round(
                r["live"]["frame_gap_max_ms"] / max(base["live"]["frame_gap_max_ms"], 0.01), 2
            ),
        }
    goals = runs.get("5000")
    result = {
        "bench": "ui",
        "baseline": "50-node fan-out/fan-in DAG, same run",
        "cpu_count": os.cpu_count(),
        "load_average_at_end": [round(x, 1) for x in os.getloadavg()],
        "sizes": runs,
        "goals_5000": None
        if goals is None
        else {
            "first_render_under_2s": goals["first_render_ms"] < 2000,
            "pan_zoom_median_frame_under_50ms": goals["pan_zoom"]["draw_median_ms"] < 50
            and goals["pan_zoom"]["frame_gap_median_ms"] < 50,
            "live_200_per_s_no_frame_over_100ms": goals["live"]["frame_gap_max_ms"] <= 100,
        },
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ui.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
