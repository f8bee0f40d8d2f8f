"""The web UI in Debian's chromium against a real ``clusterforge serve``.

Every test drives the page as a user would (sign in, click, type) while real
workflows run in the server; what the canvas draws is checked through the DOM
the page keeps beside it (stage buttons, the node panel, the header) and the
``data-drawn`` count the graph sets once it has drawn every node.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.ui.conftest import TOKEN, Served, sign_in

pytestmark = pytest.mark.slow


def open_build(page: Any, server: Served, build_id: str) -> None:
    page.goto(f"{server.url}/#/builds/{build_id}")
    page.wait_for_selector("canvas#graph[data-drawn]")


def find_node(page: Any, text: str) -> None:
    """Search for ``text`` and select the first match, once the graph has one: the
    node may not be drawn yet (a later stage's nodes appear when it starts)."""
    page.fill("#node-search", text)
    page.wait_for_selector("#node-found:text-matches('^[1-9]')", timeout=30_000)
    page.press("#node-search", "Enter")


def select_node(page: Any, name: str) -> None:
    find_node(page, name)
    page.wait_for_selector(f"#node-panel h2:text-is('{name}')")


def waiting_lines(page: Any) -> list[int]:
    """The numbers of the hold step's "waiting N" lines in the log box, in order."""
    return [int(n) for n in re.findall(r"waiting (\d+)", page.text_content("pre.logs") or "")]


def stage_button(page: Any, stage: str) -> Any:
    return page.locator(f".group-toggle[data-stage='{stage}']")


def test_a_wrong_token_is_refused_and_a_right_one_becomes_an_httponly_cookie(
    page: Any, server: Served
) -> None:
    page.goto(f"{server.url}/#/fleet")
    page.wait_for_selector("#token")  # reads need a session on this server
    page.fill("#token", "not-the-token-0123456789")
    page.click("button[type=submit]")
    page.wait_for_selector("#token-error:has-text('not valid')")
    assert page.context.cookies() == []

    sign_in(page, server.url)
    (cookie,) = page.context.cookies()
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert TOKEN not in cookie["value"]
    assert TOKEN not in page.url
    stored = page.evaluate("JSON.stringify([{...localStorage}, {...sessionStorage}])")
    assert TOKEN not in stored
    assert page.evaluate("document.cookie") == ""  # HttpOnly: no script sees it


def test_pages_carry_a_strict_content_security_policy(server: Served) -> None:
    for path in ("/", "/ui/js/main.js", "/ui/app.css"):
        policy = httpx.get(server.url + path).headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert "unsafe-eval" not in policy
    assert httpx.get(server.url + "/ui/../api-tokens").status_code == 404


def test_the_build_page_shows_stage_groups_and_phases_changing_live(
    page: Any, server: Served
) -> None:
    build = server.trigger(hold="12")
    sign_in(page, server.url)
    open_build(page, server, build)
    page.evaluate("window.__samePage = true")
    for stage in ("preflight", "core"):  # core's group appears once preflight is done
        stage_button(page, stage).wait_for(timeout=30_000)
        assert stage_button(page, stage).count() == 1
    select_node(page, "control-plane")
    page.wait_for_selector("#node-panel .phase:has-text('Running')")
    page.wait_for_selector("#node-panel .phase:has-text('Succeeded')", timeout=30_000)
    for stage in ("addons", "validation"):  # groups that appeared while watching
        stage_button(page, stage).wait_for(timeout=30_000)
    page.wait_for_selector(".status .phase:has-text('Failed')", timeout=30_000)
    assert page.evaluate("window.__samePage") is True  # no reload happened
    assert page.errors == []


def test_a_skipped_add_on_shows_its_reason(page: Any, server: Served) -> None:
    build = server.trigger()
    sign_in(page, server.url)
    open_build(page, server, build)
    stage_button(page, "addons").wait_for(timeout=30_000)
    select_node(page, "logging")
    page.wait_for_selector("#node-panel .phase:has-text('Skipped')", timeout=30_000)
    reason = page.text_content("#node-panel .reason")
    assert reason is not None
    assert "when" in reason
    assert "evaluated false" in reason


def test_a_retried_step_lists_every_attempt_with_its_exit_code(page: Any, server: Served) -> None:
    build = server.trigger()
    sign_in(page, server.url)
    open_build(page, server, build)
    select_node(page, "flaky-export")
    # the second attempt's row appears when it starts; its exit code once it ends
    exits = "#node-panel table.attempts tbody tr:nth-child({}) td:nth-child(3)"
    page.wait_for_selector(exits.format(2) + ":text-matches('^[0-9]+$')", timeout=30_000)
    assert page.text_content(exits.format(1)) == "3"
    assert page.text_content(exits.format(2)) == "0"


def test_logs_follow_while_the_step_runs(page: Any, server: Served, tmp_path: Path) -> None:
    gate = tmp_path / "gate"  # the step logs until this test opens the gate
    gate.mkdir()
    build = server.trigger(hold="600", gate=str(gate))
    try:
        sign_in(page, server.url)
        open_build(page, server, build)
        select_node(page, "control-plane")
        page.wait_for_selector("pre.logs:has-text('waiting 2')", timeout=30_000)
        seen = waiting_lines(page)
        assert "control plane ready" not in (page.text_content("pre.logs") or "")
        # more lines arrive in the same box while the step runs, with no reload or click
        page.wait_for_function(
            "(last) => Math.max(...[...document.querySelector('pre.logs').textContent"
            ".matchAll(/waiting (\\d+)/g)].map(m => Number(m[1]))) >= last + 3",
            arg=max(seen),
        )
    finally:
        (gate / "open").touch()
    page.wait_for_selector("pre.logs:has-text('control plane ready')", timeout=30_000)
    lines = waiting_lines(page)
    assert lines == list(range(1, len(lines) + 1))  # every line once, in order: none dropped


def test_stop_and_retry_work_from_the_buttons(page: Any, server: Served) -> None:
    build = server.trigger(hold="200", **{"sentence-fails": "no"})
    sign_in(page, server.url)
    open_build(page, server, build)
    page.wait_for_selector(".status .phase:has-text('Running')")
    page.click("button:text-is('Stop')")
    page.wait_for_selector(".status .phase:has-text('Failed'), .status .phase:has-text('Error')",
                           timeout=30_000)  # fmt: skip
    with server.client() as client:
        stopped = client.get(f"/api/v1/builds/{build}").json()["status"]["phase"]
    assert stopped in ("Failed", "Error")  # the page shows the end only once the build ended
    retry = page.locator("button:text-is('Retry')")
    assert retry.is_enabled()  # drawn with the phase it belongs to
    assert page.locator("button:text-is('Stop')").is_disabled()
    retry.click()
    page.wait_for_selector(".toast:has-text('Retry: accepted')")
    page.wait_for_selector(".status .phase:has-text('Running')", timeout=30_000)
    page.locator("button:text-is('Stop')").click()  # the retried run holds for a minute
    page.wait_for_selector(".toast:has-text('Stop: accepted')")


def test_hostile_names_parameters_and_logs_stay_text(page: Any, server: Served) -> None:
    hostile = '<script>window.__pwned=\'title\'</script>"><img src=x onerror="window.__pwned=3">'
    build = server.trigger(title=hostile)
    sign_in(page, server.url)
    violations: list[str] = []
    page.on(
        "console",
        lambda msg: violations.append(msg.text) if "Content Security" in msg.text else None,
    )
    open_build(page, server, build)
    select_node(page, "subnet-ips")
    page.wait_for_selector("#node-panel dd code:has-text('<script>')", timeout=30_000)
    page.wait_for_selector("pre.logs:has-text('onerror')", timeout=30_000)
    # a node whose name is a <script> / javascript: URL (loop items)
    find_node(page, "quoted(2:javascript:")
    page.wait_for_selector("#node-panel h2:has-text('javascript:window.__pwned = 2')")
    page.goto(f"{server.url}/#/builds")
    page.wait_for_selector(f"a:text-is('{build}')")
    assert page.evaluate("window.__pwned") is None
    assert page.locator("img").count() == 0
    assert page.locator("main script").count() == 0
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
    assert not any(h.lower().startswith("javascript:") for h in hrefs)
    assert violations == []  # nothing even tried to run and was blocked


def test_the_page_keeps_working_across_a_server_restart(
    page: Any, server: Served, tmp_path: Path
) -> None:
    """The build is held in a step (behind the gate) through the whole restart; the
    restarted server takes the step back, and the same page, never reloaded, shows
    what happens after the gate opens: the step's end, the stages after it, the end."""
    gate = tmp_path / "gate"  # the step logs until this test opens the gate
    gate.mkdir()
    build = server.trigger(hold="600", gate=str(gate), **{"sentence-fails": "no"})
    try:
        sign_in(page, server.url)
        open_build(page, server, build)
        page.evaluate("window.__samePage = true")
        page.wait_for_selector("#live[data-state='live']")
        select_node(page, "control-plane")
        page.wait_for_selector("pre.logs:has-text('waiting 2')", timeout=30_000)
        page.wait_for_selector("#node-panel .phase:has-text('Running')")
        server.restart()
        with server.client() as client:  # the new server has the build, still held
            doc = client.get(f"/api/v1/builds/{build}").json()
        phases = {node["displayName"]: node["phase"] for node in doc["status"]["nodes"].values()}
        assert (doc["status"]["phase"], phases["control-plane"]) == ("Running", "Running")
        assert "node-groups" not in phases  # the step after it has not started
    finally:
        (gate / "open").touch()
    # all of this happens after the restart, and reaches the page through its stream
    page.wait_for_selector("#node-panel .phase:has-text('Succeeded')", timeout=60_000)
    stage_button(page, "validation").wait_for(timeout=60_000)
    page.wait_for_selector(".status .phase:has-text('Succeeded')", timeout=60_000)
    page.wait_for_selector("#live[data-state='done']")  # the stream came back and saw the end
    assert page.evaluate("window.__samePage") is True
    # the step's log, opened again, is one log across the restart: its last line was
    # written after the gate opened, and no line is missing or doubled
    page.focus("canvas#graph")
    page.keyboard.press("Escape")
    page.wait_for_selector("#node-panel p:has-text('Select a node')")
    select_node(page, "control-plane")
    page.wait_for_selector("pre.logs:has-text('control plane ready')", timeout=30_000)
    lines = waiting_lines(page)
    assert lines == list(range(1, len(lines) + 1))
    page.goto(f"{server.url}/#/builds")  # the session cookie outlived the process
    page.wait_for_selector(f"a:text-is('{build}')")
    assert page.locator("text=Sign out").count() == 1


def test_public_reads_need_no_login_but_actions_do(page: Any, public_server: Served) -> None:
    build = public_server.trigger()
    page.goto(f"{public_server.url}/#/builds")
    page.wait_for_selector(f"a:text-is('{build}')")
    open_build(page, public_server, build)
    assert page.locator("button:text-is('Stop')").is_disabled()
    assert page.locator("button:text-is('Retry')").is_disabled()
    status = page.evaluate(
        "(id) => fetch(`/api/v1/builds/${id}/retry`, {method: 'POST'}).then(r => r.status)", build
    )
    assert status == 401
    sign_in(page, public_server.url)
    without_csrf = page.evaluate(
        "(id) => fetch(`/api/v1/builds/${id}/retry`, {method: 'POST'}).then(r => r.status)", build
    )
    assert without_csrf == 403


def test_builds_filter_by_phase_and_page(page: Any, server: Served) -> None:
    failing = server.trigger(**{"sentence-fails": "yes"})
    with server.client() as client:
        for _ in range(2):
            server.trigger(**{"sentence-fails": "no"})
        deadline = time.monotonic() + 120
        while client.get(f"/api/v1/builds/{failing}").json()["status"]["phase"] != "Failed":
            assert time.monotonic() < deadline, "the failing build did not end"
            time.sleep(0.2)
    sign_in(page, server.url)
    page.goto(f"{server.url}/#/builds")
    page.select_option("#f-phase", "Failed")
    # Wait for the filtered table itself: an empty table (not yet loaded) would pass
    # an "every row is Failed" check vacuously.
    page.wait_for_function(
        "() => { const cells = [...document.querySelectorAll('td[data-col=phase]')];"
        " return cells.length > 0 && cells.every(td => /Failed/.test(td.textContent)); }"
    )
    shown = page.locator("td[data-col=phase]").count()
    assert shown >= 1
    assert re.match(r"\d+–\d+", page.text_content(".bar span.muted") or "")


def test_a_pasted_spec_with_mistakes_shows_each_problem_at_its_field(
    page: Any, server: Served
) -> None:
    sign_in(page, server.url)
    page.goto(f"{server.url}/#/new")
    spec = page.input_value("#spec").replace("desired: 2", "desired: -1")  # YAML, as on disk
    page.fill("#spec", spec)
    page.click("button:text-is('Start build')")
    problem = page.locator("#spec-problems li[data-field='spec.nodeGroups[0].desired']")
    problem.wait_for()
    assert "line" in (problem.text_content() or "")
    with server.client() as client:
        assert client.get("/api/v1/builds", params={"stage": "build"}).json()["items"] == []


def test_the_graph_works_from_the_keyboard_and_stages_collapse(page: Any, server: Served) -> None:
    build = server.trigger(**{"sentence-fails": "no"})
    sign_in(page, server.url)
    open_build(page, server, build)
    page.wait_for_selector(".status .phase:has-text('Succeeded')", timeout=30_000)
    page.focus("canvas#graph")
    page.keyboard.press("Home")
    first = page.text_content("#node-panel h2")
    page.keyboard.press("ArrowDown")
    page.wait_for_function(
        "(first) => document.querySelector('#node-panel h2').textContent !== first", arg=first
    )
    page.keyboard.press("Escape")
    page.wait_for_selector("#node-panel p:has-text('Select a node')")
    # The header shows the end before the page has fetched and laid out the final
    # document: wait until the graph has every node of the ended build.
    with server.client() as client:
        shown = len(client.get(f"/api/v1/builds/{build}").json()["status"]["nodes"])
    page.wait_for_function(
        f"() => document.querySelector('canvas#graph').dataset.nodes === '{shown}'"
    )
    page.click(".group-toggle[data-stage='preflight']")
    page.wait_for_selector(".group-toggle[data-stage='preflight'][aria-pressed='false']")
    folded = int(page.get_attribute("canvas#graph", "data-nodes") or 0)
    assert folded < shown  # the stage's tasks, loop items and attempts became one node
    page.click(".group-toggle[data-stage='preflight']")
    page.wait_for_function(
        f"() => document.querySelector('canvas#graph').dataset.nodes === '{shown}'"
    )


def _validation_report(artifacts: Path, sentence: str) -> None:
    """The report the validation stage's own ``report`` step writes, from two checks'
    results as ``run_validation`` records them (one DETIK sentence failing after 3
    attempts): what a kwok build produces, without needing the toolchain here."""
    from dataclasses import asdict

    from clusterforge.spec import load_spec
    from clusterforge.stages.steps.context import StepContext
    from clusterforge.stages.steps.validation import CheckResult, report

    checks = artifacts / "validation" / "checks"
    checks.mkdir(parents=True)
    message = "found 2 pods named 'metrics-server', expected 3"
    failing = {"sentence": sentence, "ok": False, "exit_code": 1, "attempts": 3, "message": message}
    results = [
        CheckResult("api", "core", "api", True, "the API server answers"),
        CheckResult(sentence, "sentence", sentence, False, message, [failing]),
    ]
    for index, result in enumerate(results):
        (checks / f"{index}.json").write_text(json.dumps(asdict(result)))
    spec = load_spec(Path(__file__).resolve().parents[2] / "examples" / "dev-cluster.yaml")
    assert report(StepContext(spec, artifacts, rerun=False)) is False


def test_the_validation_report_shows_the_failing_sentence_and_its_downloads(
    page: Any, server: Served, tmp_path: Path
) -> None:
    from dataclasses import asdict

    from clusterforge.stages import BuildRecord
    from clusterforge.store import Store

    sentence = "there are 3 pods named 'metrics-server'"
    build = server.trigger(**{"sentence-fails": "no"})
    _validation_report(tmp_path / "artifacts", sentence)
    record = BuildRecord(build, "ui-report", "validation", "Succeeded", time.time(),
                         artifacts_dir=str(tmp_path / "artifacts"))  # fmt: skip
    Store(server.home / "state.db").kv_put("builds", build, asdict(record))
    sign_in(page, server.url)
    open_build(page, server, build)
    page.wait_for_selector("#report h2:has-text('1 passed, 1 failed')")
    row = page.locator("table.report tbody tr", has_text=sentence)
    cells = [c.strip() for c in row.locator("td").all_text_contents()]
    assert cells[1].endswith("failed")
    assert cells[2] == "3"
    assert "expected 3" in cells[3]
    for name, expected in (
        ("JUnit XML", "<testsuite"),
        ("TAP", "not ok"),
        ("summary (JSON)", '"failed": 1'),
    ):
        href = page.get_attribute(f"a:text-is('{name}')", "href")
        answer = page.request.get(server.url + str(href))  # the page's own session cookie
        assert answer.status == 200
        assert expected in answer.text()
