"""``Metrics`` in prometheus_client's multiprocess mode, with real processes.

The counters of ``serve --processes N`` live in the processes that count them
(acceptors count triggers, the controller observes steps), so a scrape must
sum mmap files written by other processes. Each process here is a fresh
interpreter with ``PROMETHEUS_MULTIPROC_DIR`` in its environment from the
start, as the supervisor starts its children; nothing is mocked.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from clusterforge.api.metrics import Metrics, mark_process_dead, reset_multiprocess_dir
from clusterforge.store import Store


def _phases(store: Store) -> Callable[[], list[str]]:
    return lambda: [r.phase for r in store.list_workflows()]


ACCEPTED = 'clusterforge_triggers_total{result="accepted",source="build"}'

# argv: state db, metrics dir, triggers to count, steps to observe
_COUNT = """
import sys
from pathlib import Path
from clusterforge.api.metrics import Metrics
from clusterforge.store import Store

store = Store(Path(sys.argv[1]))
phases = lambda: [r.phase for r in store.list_workflows()]  # noqa: E731
metrics = Metrics(phases, lambda: (0, 0), multiprocess_dir=Path(sys.argv[2]))
for _ in range(int(sys.argv[3])):
    metrics.trigger("build", "accepted")
for _ in range(int(sys.argv[4])):
    metrics.step_duration.labels("install", "Succeeded").observe(1.5)
"""

# argv: state db, metrics dir; prints the exposition
_SCRAPE = """
import sys
from pathlib import Path
from clusterforge.api.metrics import Metrics
from clusterforge.store import Store

store = Store(Path(sys.argv[1]))
phases = lambda: [r.phase for r in store.list_workflows()]  # noqa: E731
metrics = Metrics(phases, lambda: (5, 2), multiprocess_dir=Path(sys.argv[2]))
sys.stdout.write(metrics.exposition().decode())
"""

# argv: state db, metrics dir; prints the error Metrics raises, if any
_CONSTRUCT = """
import sys
from pathlib import Path
from clusterforge.api.metrics import Metrics
from clusterforge.store import Store

store = Store(Path(sys.argv[1]))
try:
    Metrics(lambda: [r.phase for r in store.list_workflows()], lambda: (0, 0),
            multiprocess_dir=Path(sys.argv[2]))
except RuntimeError as err:
    print("RuntimeError:", err)
else:
    print("constructed")
"""


def _env(metrics_dir: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.upper() != "PROMETHEUS_MULTIPROC_DIR"}
    if metrics_dir is not None:
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    return env


def _run(code: str, *args: object, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _lines(text: str, prefix: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(prefix)]


def test_a_scrape_sums_every_process_and_reads_the_store_once(tmp_path: Path) -> None:
    metrics_dir = tmp_path / "metrics"
    reset_multiprocess_dir(metrics_dir)
    db = tmp_path / "state.db"
    env = _env(metrics_dir)
    # two counting processes alive at the same time, as acceptors are
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _COUNT, str(db), str(metrics_dir), str(n), "1"],
            env=env,
            stderr=subprocess.PIPE,
        )
        for n in (3, 4)
    ]
    for child in children:
        _out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err.decode()
    pids = {child.pid for child in children}
    assert {p.name for p in metrics_dir.glob("counter_*.db")} == {
        f"counter_{pid}.db" for pid in pids
    }
    # the supervisor marks exited children dead; their counts stay in the sums
    for pid in pids:
        mark_process_dead(metrics_dir, pid)

    text = _run(_SCRAPE, db, metrics_dir, env=env)

    assert _lines(text, ACCEPTED) == [f"{ACCEPTED} 7.0"]
    count = 'clusterforge_step_duration_seconds_count{phase="Succeeded",template="install"}'
    assert _lines(text, count) == [f"{count} 2.0"]
    # store-derived gauges come from the scraping process alone, once each
    assert _lines(text, "# TYPE clusterforge_builds ") == ["# TYPE clusterforge_builds gauge"]
    for phase in ("Pending", "Running", "Succeeded", "Failed", "Error"):
        assert _lines(text, f'clusterforge_builds{{phase="{phase}"}}') == [
            f'clusterforge_builds{{phase="{phase}"}} 0.0'
        ]
    assert _lines(text, "clusterforge_run_queue{") == [
        'clusterforge_run_queue{state="queued"} 5.0',
        'clusterforge_run_queue{state="running"} 2.0',
    ]


def test_multiprocess_dir_without_the_variable_at_import_fails_loudly(tmp_path: Path) -> None:
    metrics_dir = tmp_path / "metrics"
    reset_multiprocess_dir(metrics_dir)
    out = _run(_CONSTRUCT, tmp_path / "state.db", metrics_dir, env=_env(None))
    assert out.startswith("RuntimeError:")
    assert "PROMETHEUS_MULTIPROC_DIR" in out


def test_multiprocess_dir_other_than_the_variable_fails_loudly(tmp_path: Path) -> None:
    # counters would be written to one directory and the scrape read another
    written, read = tmp_path / "written", tmp_path / "read"
    reset_multiprocess_dir(written)
    reset_multiprocess_dir(read)
    out = _run(_CONSTRUCT, tmp_path / "state.db", read, env=_env(written))
    assert out.startswith("RuntimeError:")
    assert "PROMETHEUS_MULTIPROC_DIR" in out
    # the same directory, spelled differently, is accepted
    out = _run(_CONSTRUCT, tmp_path / "state.db", read / ".." / "written", env=_env(written))
    assert out.strip() == "constructed"


def test_single_process_metrics_stay_per_app(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.db")
    one = Metrics(_phases(store), lambda: (0, 0))
    other = Metrics(_phases(store), lambda: (1, 0))
    one.trigger("build", "accepted")
    one.trigger("build", "accepted")
    other.trigger("build", "accepted")

    text = one.exposition().decode()
    assert _lines(text, ACCEPTED) == [f"{ACCEPTED} 2.0"]
    assert _lines(text, 'clusterforge_builds{phase="Pending"}') == [
        'clusterforge_builds{phase="Pending"} 0.0'
    ]
    assert _lines(other.exposition().decode(), ACCEPTED) == [f"{ACCEPTED} 1.0"]
    assert 'clusterforge_run_queue{state="queued"} 1.0' in other.exposition().decode()


def test_reset_creates_a_private_dir_without_a_previous_runs_files(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh" / "metrics"
    reset_multiprocess_dir(fresh)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o700

    used = tmp_path / "used"
    used.mkdir()
    (used / "counter_123.db").write_bytes(b"stale")
    (used / "histogram_456.db").write_bytes(b"stale")
    (used / "notes.txt").write_text("kept")
    reset_multiprocess_dir(used)
    assert sorted(p.name for p in used.iterdir()) == ["notes.txt"]


def test_mark_process_dead_of_a_missing_dir_is_harmless(tmp_path: Path) -> None:
    mark_process_dead(tmp_path / "absent", 12345)
    assert not (tmp_path / "absent").exists()


def test_mark_process_dead_drops_live_gauges_and_keeps_counters(tmp_path: Path) -> None:
    for name in ("counter_4242.db", "gauge_livesum_4242.db", "gauge_livesum_4343.db"):
        (tmp_path / name).write_bytes(b"")
    mark_process_dead(tmp_path, 4242)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "counter_4242.db",
        "gauge_livesum_4343.db",
    ]
