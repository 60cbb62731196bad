"""The worker launcher: results, events, errors, lost and hung workers, Ctrl-C, no orphans, joining a cluster.

The targets below are plain Python (no TensorFlow) so each process starts in well under a second; the
TensorFlow cluster itself is tested in tests/engine/test_multiworker.py.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dltool.engine import workers
from dltool.errors import MissingError, RunError, UsageError

HERE = str(Path(__file__).resolve().parent)
MODULE = Path(__file__).stem


# ---- targets (run in the worker processes) ------------------------------------------------------------------

def echo(config: dict) -> dict:
    info = workers.worker_info()
    progress = workers.RemoteProgress()
    progress.start_run(f"worker {info.index}")
    progress.on_fit_start(3)
    for step in range(1, 4):
        progress.on_steps(step, 1.0 / step)
    progress.end_run("done")
    return {"index": info.index, "workers": info.workers, "value": config["value"] * (info.index + 1),
            "tf_config": os.environ.get("TF_CONFIG"), "pid": os.getpid()}


def sleeper(config: dict) -> dict:
    info = workers.worker_info()
    if info.index == config.get("stop_self", -1):
        os.kill(os.getpid(), signal.SIGSTOP)
    time.sleep(config.get("seconds", 60))
    return {"index": info.index}


def fail_missing(config: dict) -> dict:
    raise MissingError("no such device here", "use fewer devices")


def fail_plain(config: dict) -> dict:
    if workers.worker_info().index == 1:
        raise ValueError("bad value in worker 1")
    time.sleep(30)
    return {}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purpose
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split()[2] != "Z"
    except OSError:
        return True


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


# ---- tests ------------------------------------------------------------------------------------------------------

def test_free_ports_are_distinct_and_bindable():
    ports = workers.free_ports(4)
    assert len(set(ports)) == 4
    assert all(_bindable(p) for p in ports)


def test_tf_config_and_cluster_from_env():
    doc = workers.tf_config([1111, 2222], 1)
    assert doc == {"cluster": {"worker": ["127.0.0.1:1111", "127.0.0.1:2222"]}, "task": {"type": "worker", "index": 1}}
    info = workers.cluster_from_env({"TF_CONFIG": json.dumps(doc)})
    assert (info.workers, info.index, info.is_chief) == (2, 1, False)
    chiefed = {"cluster": {"chief": ["a:1"], "worker": ["b:1", "c:1"]}, "task": {"type": "worker", "index": 0}}
    info = workers.cluster_from_env({"TF_CONFIG": json.dumps(chiefed)})
    assert (info.workers, info.index, info.is_chief) == (3, 1, False)
    assert workers.cluster_from_env({}) is None
    with pytest.raises(UsageError):
        workers.cluster_from_env({"TF_CONFIG": "{not json"})
    with pytest.raises(UsageError):
        workers.cluster_from_env({"TF_CONFIG": json.dumps({"cluster": {}})})


def test_summarise_error_finds_the_telling_line():
    tf_text = ("Graph execution error:\n\nDetected at node x\n\nCollective ops is aborted by: recvmsg:Connection "
               "reset by peer\nAdditional GRPC error information from remote target /job:worker/replica:0/task:1 "
               "while calling\n [[{{node y}}]]")
    assert workers.summarise_error(tf_text) == ("Collective ops is aborted by: recvmsg:Connection reset by peer "
                                                "(peer /job:worker/replica:0/task:1)")
    assert workers.summarise_error("in user code:\n\n File a\n\n ValueError: boom\n") == "boom"


def test_launch_collects_results_in_index_order_with_tf_config_and_events():
    events = []
    results = workers.launch(f"{MODULE}:echo", {"value": 7}, 3, python_path=[HERE],
                             on_event=lambda i, e: events.append((i, e)))
    assert [r["index"] for r in results] == [0, 1, 2]
    assert [r["value"] for r in results] == [7, 14, 21]
    ports = set()
    for i, r in enumerate(results):
        doc = json.loads(r["tf_config"])
        assert doc["task"] == {"type": "worker", "index": i}
        ports |= {a.rsplit(":", 1)[1] for a in doc["cluster"]["worker"]}
        assert not _alive(r["pid"])
    assert len(ports) == 3
    kinds = [(i, e["event"]) for i, e in events]
    for i in range(3):
        assert (i, "started") in kinds and (i, "run_start") in kinds and (i, "run_end") in kinds
    steps = [e["done"] for i, e in events if i == 0 and e["event"] == "steps"]
    assert steps == [1, 2, 3]


def test_forward_to_replays_the_chief_on_a_progress_object():
    calls = []

    class Fake:
        def start_run(self, label):
            calls.append(("start", label))

        def end_run(self, summary=""):
            calls.append(("end", summary))

        def on_fit_start(self, total):
            calls.append(("fit", total))

        def on_steps(self, done, loss):
            calls.append(("steps", done, round(loss, 3)))

    workers.run_in_subprocess(f"{MODULE}:echo", {"value": 1}, python_path=[HERE],
                              on_event=workers.forward_to(Fake()))
    assert calls == [("start", "worker 0"), ("fit", 3), ("steps", 1, 1.0), ("steps", 2, 0.5),
                     ("steps", 3, 0.333), ("end", "done")]


def test_run_in_subprocess_has_no_tf_config(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", json.dumps(workers.tf_config([1], 0)))
    result = workers.run_in_subprocess(f"{MODULE}:echo", {"value": 2}, python_path=[HERE])
    assert result["tf_config"] is None and result["value"] == 2


def test_a_dltool_error_in_the_worker_keeps_its_class_and_exit_code(tmp_path):
    with pytest.raises(MissingError) as info:
        workers.run_in_subprocess(f"{MODULE}:fail_missing", {}, python_path=[HERE], log_dir=tmp_path)
    assert info.value.message == "no such device here" and info.value.hint == "use fewer devices"
    assert int(info.value.code) == 3


def test_a_failing_worker_stops_the_others_and_is_named(tmp_path):
    start = time.monotonic()
    with pytest.raises(RunError) as info:
        workers.launch(f"{MODULE}:fail_plain", {}, 2, python_path=[HERE], grace_s=1.0, log_dir=tmp_path)
    text = info.value.one_line()
    assert "worker 1 of 2" in text and "ValueError: bad value in worker 1" in text
    assert "worker 0 of 2" in text and "stopped" in text
    assert time.monotonic() - start < 20


def test_a_killed_worker_is_lost_every_process_is_reaped_and_ports_are_free(tmp_path):
    started: dict[int, dict] = {}

    def on_event(index, event):
        if event["event"] == "started":
            started[index] = event
            if index == 1:
                time.sleep(0.5)
                os.kill(event["pid"], signal.SIGKILL)

    t0 = time.monotonic()
    with pytest.raises(RunError) as info:
        workers.launch(f"{MODULE}:sleeper", {"seconds": 60}, 2, python_path=[HERE], on_event=on_event, grace_s=2.0,
                       log_dir=tmp_path)
    elapsed = time.monotonic() - t0
    text = info.value.one_line()
    assert text.startswith("worker 1 of 2") and "was lost" in text and "SIGKILL" in text
    assert "every worker process was stopped" in text and f"logs: {tmp_path}" in text
    assert (tmp_path / "worker-0.log").exists() and (tmp_path / "worker-1.log").exists()
    assert elapsed < 15
    assert not any(_alive(e["pid"]) for e in started.values())
    assert all(_bindable(e["port"]) for e in started.values())


def test_a_hung_worker_is_detected_by_its_heartbeat_and_killed(tmp_path):
    started = {}
    t0 = time.monotonic()
    with pytest.raises(RunError) as info:
        workers.launch(f"{MODULE}:sleeper", {"seconds": 60, "stop_self": 1}, 2, python_path=[HERE],
                       hang_timeout_s=4.0, grace_s=1.0, on_event=lambda i, e: started.setdefault(i, e),
                       log_dir=tmp_path)
    text = info.value.one_line()
    assert text.startswith("worker 1 of 2") and "hung" in text and "heartbeat" in text
    assert time.monotonic() - t0 < 20
    assert not any(_alive(e["pid"]) for e in started.values())


def test_ctrl_c_stops_every_worker():
    started = {}

    def on_event(index, event):
        started.setdefault(index, event)
        if len(started) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        workers.launch(f"{MODULE}:sleeper", {"seconds": 60}, 2, python_path=[HERE], on_event=on_event)
    assert len(started) == 2
    assert not any(_alive(e["pid"]) for e in started.values())


def test_time_limit():
    with pytest.raises(RunError, match="did not finish within 2 s"):
        workers.run_in_subprocess(f"{MODULE}:sleeper", {"seconds": 60}, python_path=[HERE], timeout_s=2.0)


def test_workers_die_with_a_killed_launcher(tmp_path):
    """No orphan: SIGKILL the launcher itself; its workers follow (PR_SET_PDEATHSIG / parent polling)."""
    pids_file = tmp_path / "pids.json"
    script = (
        "import json, sys\n"
        f"sys.path.insert(0, {HERE!r})\n"
        "from dltool.engine import workers\n"
        "pids = []\n"
        "def on_event(i, e):\n"
        "    if e['event'] == 'started':\n"
        "        pids.append(e['pid'])\n"
        f"        open({str(pids_file)!r}, 'w').write(json.dumps(pids))\n"
        f"workers.launch('{MODULE}:sleeper', {{'seconds': 60}}, 2, python_path=[{HERE!r}], on_event=on_event)\n"
    )
    scratch = tmp_path / "scratch"  # the killed launcher cannot clean its scratch folder: keep it in tmp_path
    scratch.mkdir()
    launcher = subprocess.Popen([sys.executable, "-c", script], env=dict(os.environ, TMPDIR=str(scratch)))
    deadline = time.monotonic() + 30
    pids = []
    while time.monotonic() < deadline:
        if pids_file.exists():
            pids = json.loads(pids_file.read_text() or "[]")
            if len(pids) == 2:
                break
        time.sleep(0.1)
    assert len(pids) == 2
    time.sleep(1.0)
    launcher.kill()
    launcher.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.1)
    assert not any(_alive(p) for p in pids)


def test_join_runs_the_target_here_as_the_task_tf_config_names(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", json.dumps(workers.tf_config([1, 2, 3], 2)))
    monkeypatch.syspath_prepend(HERE)
    events = []
    result = workers.join(f"{MODULE}:echo", {"value": 5}, on_event=lambda i, e: events.append((i, e["event"])))
    assert (result["index"], result["workers"], result["value"]) == (2, 3, 15)
    assert (2, "run_start") in events and (2, "run_end") in events
    monkeypatch.delenv("TF_CONFIG")
    with pytest.raises(MissingError):
        workers.join(f"{MODULE}:echo", {"value": 5})


def test_slurm_tf_config_from_a_job_step(monkeypatch, tmp_path):
    """Fake Slurm variables (two nodes, one task each, no GPUs): TF_CONFIG for task 1 on node02."""
    monkeypatch.setenv("SLURM_PROCID", "1")
    monkeypatch.setenv("SLURM_STEP_NUM_TASKS", "2")
    monkeypatch.setenv("SLURM_STEP_NODELIST", "node[01-02]")
    monkeypatch.setenv("SLURM_STEP_TASKS_PER_NODE", "1(x2)")
    monkeypatch.setenv("PATH", str(tmp_path))  # no nvidia-smi
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    config, visible = workers.slurm_tf_config(port_base=12345)
    assert config == {"cluster": {"worker": ["node01:12345", "node02:12345"]}, "task": {"type": "worker", "index": 1}}
    assert visible is None
    monkeypatch.delenv("SLURM_PROCID")
    with pytest.raises(MissingError):
        workers.slurm_tf_config()


# ---- the training shards of `dltool mnist workers` -----------------------------------------------------------

@pytest.mark.parametrize("mode", ["random", "strided"])
@pytest.mark.parametrize("n, k", [(60_000, 6), (60_000, 1), (6_000, 2), (1_003, 7), (10, 10)])
def test_shards_are_disjoint_and_cover_the_training_set(mode, n, k):
    import numpy as np

    from dltool.experiments.mnist.workers import shards

    parts = shards(n, k, mode, seed=3)
    assert len(parts) == k
    joined = np.concatenate(parts)
    assert len(joined) == n and np.array_equal(np.sort(joined), np.arange(n))  # disjoint and covering
    sizes = [len(p) for p in parts]
    assert max(sizes) - min(sizes) <= 1


def test_random_shards_are_seeded_and_random():
    import numpy as np

    from dltool.experiments.mnist.workers import shards

    a, b, c = shards(60_000, 6, "random", 0), shards(60_000, 6, "random", 0), shards(60_000, 6, "random", 1)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))  # same seed, same shards in every worker process
    assert not np.array_equal(a[0], c[0])
    strided = shards(60_000, 6, "strided")
    assert np.array_equal(strided[1][:3], [1, 7, 13])
    assert not np.array_equal(a[1], strided[1])
    # A random shard is spread over the whole set, not a block: every tenth of the indices is in it.
    assert len(np.unique(a[0] // 6_000)) == 10
    with pytest.raises(UsageError):
        shards(60_000, 6, "blocks")
    with pytest.raises(UsageError):
        shards(5, 6)
