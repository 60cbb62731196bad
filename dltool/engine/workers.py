"""Run one function in fresh worker processes — a local cluster, one clean process, or this process as a task
of a cluster that is already described by ``TF_CONFIG`` — and collect each worker's JSON result.

Why processes: logical ("virtual") devices are fixed once TensorFlow has started in a process, so each device
count needs its own process; ``MultiWorkerMirroredStrategy`` needs one process per worker.

API (all a caller needs)::

    from dltool.engine import workers

    results = workers.launch("pkg.mod:fn", config, workers=2)   # N processes on 127.0.0.1, free ports, TF_CONFIG
    result = workers.run_in_subprocess("pkg.mod:fn", config)    # one fresh process, no cluster (TF_CONFIG removed)
    result = workers.join("pkg.mod:fn", config)                 # TF_CONFIG already set: run here as that task
    info = workers.cluster_from_env()                           # ClusterInfo(workers, index, ...) or None

The target is ``fn(config: dict) -> dict``: JSON types in and out, importable by module path in the worker
(``python_path=[...]`` adds folders, e.g. for a test module). ``launch`` returns the results in worker-index
order. Inside the target:

- ``workers.worker_info()`` → :class:`ClusterInfo` of this process (index 0 is the chief);
- ``workers.RemoteProgress()``: the progress interface of :class:`dltool.report.progress.SweepProgress`
  (``start_run``, ``end_run``, and the engine hooks ``on_fit_start``/``on_steps``/``on_epoch_end``) whose calls
  travel to the launcher; there ``on_event=workers.forward_to(progress)`` replays the chief's calls on a real
  progress bar. ``workers.report(event)`` sends any JSON event.

Faults (``launch`` and ``run_in_subprocess``):

- A worker that dies (a signal, or an exit without a result) is *lost*; one whose heartbeat stops for
  ``hang_timeout_s`` (default 60 s, e.g. a stopped process) is *hung* and is killed. The survivors learn it
  from TensorFlow — the collective health check (≈ 10 s here) or ``CommunicationOptions(timeout_seconds=…)`` —
  and the launcher waits at most ``grace_s`` (15 s) for them before it stops them itself, so a run ends
  within ≈ 20 s of a loss, well inside 60 s. It then raises :class:`RunError` (exit 1) naming the lost worker.
- When a worker fails with a :class:`DltoolError` of its own (e.g. MissingError: no such device) and no worker
  was lost, that error is raised again with its exit code.
- Ctrl-C: workers run in their own session, so a terminal's Ctrl-C reaches only the launcher, which stops every
  worker and re-raises ``KeyboardInterrupt`` (exit 130; results already returned are kept by the caller).
- Every process started is ended (SIGTERM, then SIGKILL) and reaped before ``launch`` returns or raises, so no
  orphan keeps a port; if the launcher itself is killed, the workers follow it (``PR_SET_PDEATHSIG`` on Linux
  and a thread that polls the parent everywhere). Call ``launch`` from a thread that outlives it (it blocks).
- ``timeout_s`` bounds the whole run (None: no bound).
- Testing the fault path: ``DLTOOL_FAULT="worker=1,after_steps=2,action=kill"`` (action kill | hang | error)
  makes that worker kill, stop or fail itself when it reports that many training steps.

Worker logs (stdout and stderr of each process) go to ``log_dir/worker-<i>.log`` when ``log_dir`` is given,
else to a temporary folder that is removed afterwards; a failure message quotes the last line of the log.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from dltool.errors import ExitCode, MissingError, RunError, UsageError

HEARTBEAT_S = 2.0  # how often a worker touches its heartbeat file
HANG_TIMEOUT_S = 60.0
GRACE_S = 15.0  # after a loss: how long the survivors get to fail on their own before they are stopped

# environment variables a launched worker sees
ENV_DIR = "DLTOOL_WORKER_DIR"
ENV_INDEX = "DLTOOL_WORKER_INDEX"
ENV_COUNT = "DLTOOL_WORKER_COUNT"
ENV_PARENT = "DLTOOL_WORKER_PARENT"
ENV_FAULT = "DLTOOL_FAULT"
RELEASE_FILE = "release"  # the launcher creates it when every worker of a cluster has written its result

_ERROR_CLASSES = {int(ExitCode.USAGE): UsageError, int(ExitCode.MISSING): MissingError,
                  int(ExitCode.RUNTIME): RunError}


# ---- cluster description ----------------------------------------------------------------------------------

@dataclass
class ClusterInfo:
    workers: int  # processes in the cluster
    index: int  # this process' task index
    task_type: str = "worker"
    addresses: tuple[str, ...] = ()
    launched: bool = False  # started by launch() (local) rather than joined from an existing TF_CONFIG

    @property
    def is_chief(self) -> bool:
        return self.index == 0 and self.task_type in ("worker", "chief")


def tf_config(ports: Sequence[int], index: int, host: str = "127.0.0.1") -> dict:
    """The TF_CONFIG of worker ``index`` in a local cluster on ``ports``."""
    return {"cluster": {"worker": [f"{host}:{p}" for p in ports]}, "task": {"type": "worker", "index": index}}


def cluster_from_env(environ: dict | None = None) -> ClusterInfo | None:
    """The cluster described by ``TF_CONFIG`` (None when unset). A malformed TF_CONFIG is a UsageError."""
    environ = os.environ if environ is None else environ
    raw = environ.get("TF_CONFIG")
    if not raw:
        return None
    try:
        doc = json.loads(raw)
        cluster = doc["cluster"]
        task = doc.get("task", {})
        addresses = tuple(cluster.get("chief", [])) + tuple(cluster.get("worker", []))
        task_type = task.get("type", "worker")
        index = int(task.get("index", 0))
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise UsageError(f"TF_CONFIG is not valid cluster JSON ({err})",
                         'set it like {"cluster": {"worker": ["host1:port", "host2:port"]}, '
                         '"task": {"type": "worker", "index": 0}}') from None
    if not addresses:
        raise UsageError("TF_CONFIG names no workers", 'give "cluster": {"worker": ["host:port", ...]}')
    if task_type == "worker" and "chief" in cluster:
        index += len(cluster["chief"])
    return ClusterInfo(workers=len(addresses), index=index, task_type=task_type, addresses=addresses,
                       launched=bool(environ.get(ENV_DIR)))


def worker_info() -> ClusterInfo:
    """This process' place: from TF_CONFIG, else from the launcher's variables, else a lone process."""
    info = cluster_from_env()
    if info is not None:
        return info
    return ClusterInfo(workers=int(os.environ.get(ENV_COUNT, 1)), index=int(os.environ.get(ENV_INDEX, 0)),
                       launched=bool(os.environ.get(ENV_DIR)))


def slurm_tf_config(port_base: int = 8888) -> tuple[dict, str | None]:
    """TF_CONFIG (and CUDA_VISIBLE_DEVICES, or None) of this task of a Slurm job step.

    Uses ``tf.distribute.cluster_resolver.SlurmClusterResolver`` (SLURM_PROCID, SLURM_STEP_NUM_TASKS,
    SLURM_STEP_NODELIST, SLURM_STEP_TASKS_PER_NODE). On nodes without GPUs (no nvidia-smi) the resolver cannot
    count GPUs, so it is told one "slot" per task and sets no CUDA_VISIBLE_DEVICES.
    """
    import tensorflow as tf
    from tensorflow.python.distribute.cluster_resolver import slurm_cluster_resolver as scr

    resolver_cls = tf.distribute.cluster_resolver.SlurmClusterResolver
    try:
        gpus = scr.get_num_gpus()
    except (OSError, RuntimeError):
        gpus = 0
    try:
        if gpus:
            resolver = resolver_cls(port_base=port_base)
        else:
            per_node = max(scr.expand_tasks_per_node(os.environ["SLURM_STEP_TASKS_PER_NODE"]))
            resolver = resolver_cls(port_base=port_base, gpus_per_node=per_node, gpus_per_task=1,
                                    auto_set_gpu=False)
        spec = resolver.cluster_spec().as_dict()
    except (KeyError, RuntimeError, ValueError) as err:
        raise MissingError(f"cannot read the Slurm job step ({err})",
                           "run inside `srun` (SLURM_PROCID and SLURM_STEP_* must be set)") from None
    visible = os.environ.get("CUDA_VISIBLE_DEVICES") if gpus else None
    return {"cluster": spec, "task": {"type": resolver.task_type, "index": resolver.task_id}}, visible


# ---- inside a worker: events ---------------------------------------------------------------------------

_local_sink: Callable[[int, dict], None] | None = None  # join(): events go straight to the caller


def report(event: dict) -> None:
    """Send one JSON event to the launcher (a no-op outside a launched worker unless ``join`` set a sink)."""
    index = int(os.environ.get(ENV_INDEX, 0))
    if event.get("event") == "steps":
        _maybe_fault(index, int(event.get("done", 0)))
    directory = os.environ.get(ENV_DIR)
    if directory:
        with open(Path(directory) / f"events-{index}.jsonl", "a", encoding="utf-8") as handle:
            handle.write(json.dumps(event, default=str) + "\n")
    elif _local_sink is not None:
        _local_sink(worker_info().index, event)


def _maybe_fault(index: int, steps_done: int) -> None:
    spec = os.environ.get(ENV_FAULT)
    if not spec:
        return
    try:
        fields = dict(part.split("=", 1) for part in spec.split(",") if part)
        worker, after, action = int(fields.get("worker", 1)), int(fields.get("after_steps", 1)), fields["action"]
    except (ValueError, KeyError):
        return
    if worker != index or steps_done < after:
        return
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif action == "hang":
        os.kill(os.getpid(), signal.SIGSTOP)
    elif action == "error":
        raise RuntimeError(f"injected fault in worker {index} after {steps_done} steps ({ENV_FAULT})")


class RemoteProgress:
    """SweepProgress' interface for code that runs in a worker: every call becomes an event for the launcher."""

    def start_run(self, label: str) -> "RemoteProgress":
        report({"event": "run_start", "label": label})
        return self

    def end_run(self, summary: str = "") -> None:
        report({"event": "run_end", "summary": summary})

    def log(self, message: str) -> None:
        report({"event": "log", "message": message})

    def on_fit_start(self, total_steps: int) -> None:
        report({"event": "fit_start", "total": int(total_steps)})

    def on_steps(self, steps_done: int, loss: float) -> None:
        report({"event": "steps", "done": int(steps_done), "loss": float(loss)})

    def on_epoch_end(self, log: Any) -> None:
        report({"event": "epoch_end", **{key: getattr(log, key, None) for key in EPOCH_FIELDS}})


# the engine's EpochLog fields an epoch_end event carries (dltool.engine.loop.EpochLog, without importing it)
EPOCH_FIELDS = ("epoch", "steps", "train_loss", "train_accuracy", "eval_loss", "eval_accuracy", "seconds",
                "examples", "learning_rate")


class EpochRecord:
    """An ``epoch_end`` event read back as the engine's EpochLog (a field the event lacks reads as None)."""

    def __init__(self, event: dict):
        for key in EPOCH_FIELDS:
            setattr(self, key, event.get(key))


def forward_to(progress: Any, chief_only: bool = True) -> Callable[[int, dict], None]:
    """An ``on_event`` for launch(): replays the chief's RemoteProgress calls on ``progress`` (a SweepProgress,
    or the TensorBoard writer around it), its end-of-epoch records included. Only the chief's: the losses and
    accuracies a worker logs are all-reduced over every worker's replicas, so each worker holds the same numbers."""

    def on_event(index: int, event: dict) -> None:
        if progress is None or (chief_only and index != 0):
            return
        kind = event.get("event")
        if kind == "run_start":
            progress.start_run(event.get("label", ""))
        elif kind == "run_end":
            progress.end_run(event.get("summary", ""))
        elif kind == "fit_start":
            progress.on_fit_start(int(event.get("total", 0)))
        elif kind == "steps":
            progress.on_steps(int(event.get("done", 0)), float(event.get("loss", float("nan"))))
        elif kind == "epoch_end" and hasattr(progress, "on_epoch_end"):
            progress.on_epoch_end(EpochRecord(event))
        elif kind == "log" and hasattr(progress, "log"):
            progress.log(str(event.get("message", "")))

    return on_event


def settle(strategy: Any, linger_s: float = 2.0) -> None:
    """End of a multi-worker target run by :func:`join`: a barrier (a tiny all-reduce), then a short linger.

    A process that leaves right after its last collective can break a peer still pulling that collective's
    data ("connection reset by peer"). Launched workers wait for the launcher's release instead; joined ones
    (one per node, nobody to release them) meet here and linger before they exit.
    """
    info = worker_info()
    if info.launched or info.workers < 2:
        return
    import tensorflow as tf

    @tf.function
    def barrier():
        return strategy.reduce("SUM", strategy.run(lambda: tf.constant(1.0)), axis=None)

    barrier()
    time.sleep(linger_s)


# ---- launching ---------------------------------------------------------------------------------------------

def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` distinct ports that were free a moment ago (bound together, then released)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((host, 0))
            sockets.append(sock)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _split_target(target: str) -> tuple[str, str]:
    module, _, function = target.partition(":")
    if not module or not function:
        raise ValueError(f"target must be 'module:function', got {target!r}")
    return module, function


def resolve_target(target: str) -> Callable[[dict], dict]:
    import importlib

    module, function = _split_target(target)
    return getattr(importlib.import_module(module), function)


@dataclass
class _Worker:
    index: int
    proc: subprocess.Popen
    log_path: Path
    result_path: Path
    heartbeat_path: Path
    events_path: Path
    started: float
    events_pos: int = 0
    ended: float | None = None
    state: str = "running"  # running | ok | failed | lost | hung | stopped
    detail: str = ""
    error: dict | None = None
    result: Any = None


def _signal_name(returncode: int) -> str:
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


def _last_log_line(path: Path) -> str:
    try:
        lines = [ln.strip() for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    import re

    for line in reversed(lines):  # the last Python exception line, if the process got to print one
        if re.match(r"^[A-Za-z_.]*(Error|Exception|Interrupt)\b", line):
            return line[:240]
    return ""


def summarise_error(text: str) -> str:
    """The telling line of a (TensorFlow) error message: what aborted a collective, a timeout, else line one."""
    import re

    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip()]
    if not lines:
        return ""
    inner = [ln for ln in lines if re.match(r"^[A-Za-z_.]*(Error|Exception): \S", ln)]
    if inner and lines[0].rstrip(":") in ("in user code", "Graph execution error"):
        lines = [inner[-1].split(": ", 1)[1]] + lines  # autograph wraps the real error at the end
    keys = ("aborted by", "deadline", "timed out", "timeout", "connection reset", "unavailable", "failed to connect",
            "socket closed", "peer")
    telling = next((ln for ln in lines if any(k in ln.lower() for k in keys) and not ln.startswith("[[")), None)
    summary = telling or next((ln for ln in lines if ln.rstrip(":") != "Graph execution error"), lines[0])
    peer = re.search(r"remote target (/job:[^ ]+)", str(text))
    if peer and peer.group(1) not in summary:
        summary += f" (peer {peer.group(1)})"
    return summary


def _short(text: str, limit: int = 220) -> str:
    first = " ".join(str(text).split())
    return first if len(first) <= limit else first[: limit - 1] + "…"


def _stop(workers: list[_Worker], term_wait_s: float = 3.0) -> None:
    """SIGTERM every live worker's process group, SIGKILL what is left after ``term_wait_s``, reap all."""
    live = [w for w in workers if w.proc.poll() is None]
    for w in live:
        for sig in (signal.SIGTERM, signal.SIGCONT):  # SIGCONT: a stopped process must wake to die of SIGTERM
            try:
                os.killpg(w.proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
    deadline = time.monotonic() + term_wait_s
    for w in live:
        try:
            w.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for w in workers:
        if w.proc.poll() is None:
            try:
                os.killpg(w.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            w.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - a process that survives SIGKILL
            pass
        if w.ended is None:
            w.ended = time.monotonic()


def launch(target: str, config: dict, workers: int = 2, *, cluster: bool = True,
           on_event: Callable[[int, dict], None] | None = None, timeout_s: float | None = None,
           hang_timeout_s: float = HANG_TIMEOUT_S, grace_s: float = GRACE_S, env: dict | None = None,
           worker_env: Sequence[dict] | None = None, python_path: Sequence[str | os.PathLike] = (),
           log_dir: str | os.PathLike | None = None, retries: int = 1) -> list[Any]:
    """Run ``target(config)`` in ``workers`` new processes and return their results (index order).

    ``cluster``: give each process a TF_CONFIG of a local cluster on 127.0.0.1 with free ports (False: remove
    TF_CONFIG, e.g. for a fresh process with its own logical devices). ``env``: extra variables for all,
    ``worker_env``: per worker (e.g. CUDA_VISIBLE_DEVICES). ``on_event(index, event)``: worker events and, from
    the launcher, ``{"event": "started", "pid", "port"}`` per worker. ``retries``: start again with new ports
    when a port was taken between choosing and binding it. See the module docstring for the faults.
    """
    if workers < 1:
        raise UsageError(f"worker count must be ≥ 1, got {workers}", "use --workers 2 or more")
    _split_target(target)
    for attempt in range(retries + 1):
        try:
            return _launch_once(target, config, workers, cluster, on_event, timeout_s, hang_timeout_s, grace_s,
                                env, worker_env, python_path, log_dir, attempt)
        except _PortTaken:
            if attempt == retries:
                raise RunError("a worker could not bind its port (taken by another program)",
                               "run again; the ports are chosen afresh") from None
    raise AssertionError("unreachable")  # pragma: no cover


class _PortTaken(Exception):
    pass


def run_in_subprocess(target: str, config: dict, **kwargs: Any) -> Any:
    """``target(config)`` in one fresh process without TF_CONFIG; returns its result (see :func:`launch`)."""
    return launch(target, config, 1, cluster=False, **kwargs)[0]


def join(target: str, config: dict, on_event: Callable[[int, dict], None] | None = None) -> Any:
    """Run ``target(config)`` here, as the task TF_CONFIG names (multi-node use: one call per node)."""
    global _local_sink
    if cluster_from_env() is None:
        raise MissingError("no cluster to join: TF_CONFIG is not set",
                           "set TF_CONFIG on every node (or start local workers with --workers N)")
    previous, _local_sink = _local_sink, on_event
    try:
        return resolve_target(target)(config)
    finally:
        _local_sink = previous


def _launch_once(target, config, count, cluster, on_event, timeout_s, hang_timeout_s, grace_s, env, worker_env,
                 python_path, log_dir, attempt) -> list[Any]:
    work = Path(tempfile.mkdtemp(prefix="dltool-workers-"))
    logs = Path(log_dir) if log_dir is not None else work
    logs.mkdir(parents=True, exist_ok=True)
    (work / "config.json").write_text(json.dumps(config, default=str))
    ports = free_ports(count) if cluster else []
    base_env = dict(os.environ)
    base_env.pop("TF_CONFIG", None)
    base_env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    base_env.setdefault("PYTHONUNBUFFERED", "1")
    package_root = str(Path(__file__).resolve().parents[2])  # so workers import this dltool, installed or not
    paths = [str(Path(p).resolve()) for p in python_path] + [package_root]
    if paths:
        base_env["PYTHONPATH"] = os.pathsep.join(paths + [base_env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    base_env.update({k: str(v) for k, v in (env or {}).items()})
    base_env[ENV_DIR] = str(work)
    # a worker ends with os._exit, so autograph's __autograph_generated_file*.py (removed at a normal exit) stay
    # behind: give the workers a temp folder inside the scratch folder, which goes away with it
    (work / "tmp").mkdir()
    base_env.update(TMPDIR=str(work / "tmp"), TEMP=str(work / "tmp"), TMP=str(work / "tmp"))
    base_env[ENV_COUNT] = str(count)
    base_env[ENV_PARENT] = str(os.getpid())
    procs: list[_Worker] = []
    suffix = f"-retry{attempt}" if attempt else ""
    try:
        for i in range(count):
            worker_vars = dict(base_env)
            worker_vars[ENV_INDEX] = str(i)
            if cluster:
                worker_vars["TF_CONFIG"] = json.dumps(tf_config(ports, i))
            if worker_env and i < len(worker_env):
                worker_vars.update({k: str(v) for k, v in worker_env[i].items()})
            log_path = logs / f"worker-{i}{suffix}.log"
            result_path = work / f"result-{i}.json"
            heartbeat = work / f"heartbeat-{i}"
            heartbeat.touch()
            with open(log_path, "wb") as log:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "dltool.engine.worker_main", "--target", target,
                     "--config", str(work / "config.json"), "--result", str(result_path)],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=worker_vars,
                    start_new_session=True)
            procs.append(_Worker(i, proc, log_path, result_path, heartbeat, work / f"events-{i}.jsonl",
                                 time.monotonic()))
            if on_event is not None:
                on_event(i, {"event": "started", "pid": proc.pid, "port": ports[i] if cluster else None})
        _watch(procs, on_event, timeout_s, hang_timeout_s, grace_s, work / RELEASE_FILE)
    except BaseException:  # Ctrl-C, SIGTERM, a launcher error: workers reaped, scratch folder gone
        _stop(procs)
        shutil.rmtree(work, ignore_errors=True)
        raise
    _stop(procs)
    for w in procs:
        _drain_events(w, on_event)
        _read_result(w)
    ok = all(w.state == "ok" for w in procs)
    if ok or log_dir is not None:  # else keep the scratch folder only until the error has read the logs
        shutil.rmtree(work, ignore_errors=True)
        return _outcome(procs, count)
    try:
        return _outcome(procs, count, logs_kept=False)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _drain_events(w: _Worker, on_event) -> None:
    if on_event is None:
        return
    try:
        with open(w.events_path, "r", encoding="utf-8") as handle:
            handle.seek(w.events_pos)
            chunk = handle.read()
    except OSError:
        return
    complete, _, _ = chunk.rpartition("\n")
    if not complete:
        return
    w.events_pos += len((complete + "\n").encode("utf-8"))
    for line in complete.split("\n"):
        try:
            event = json.loads(line)
        except ValueError:
            continue
        try:
            on_event(w.index, event)
        except Exception:  # a progress bar must never break a run
            pass


def _load_result(w: _Worker) -> None:
    """Read the worker's result file if it is there (the state is decided by the caller)."""
    if w.result is not None or w.error is not None:
        return
    try:
        doc = json.loads(w.result_path.read_text())
    except (OSError, ValueError):
        return
    if doc.get("ok"):
        w.result = doc.get("result")
    else:
        w.error = doc.get("error") or {}


def _read_result(w: _Worker) -> None:
    if w.state not in ("running", "ok", "failed"):
        return
    _load_result(w)
    if w.result is not None:
        w.state = "ok"
    elif w.error is not None:
        w.state = "failed"


def _watch(procs: list[_Worker], on_event, timeout_s, hang_timeout_s, grace_s, release: Path) -> None:
    """Wait for every worker; mark the lost, hung and failed ones; release the cluster when all have results.

    A worker of a cluster writes its result and then waits for ``release``: if it exited at once, a peer still
    pulling the last collective's data from it would see "connection reset by peer".
    """
    start = time.monotonic()
    stop_at: float | None = None  # after a loss: when the survivors get stopped
    released = False
    while True:
        now = time.monotonic()
        for w in procs:
            _drain_events(w, on_event)
            if w.state != "running":
                continue
            rc = w.proc.poll()
            if rc is not None:
                w.ended = now
                _read_result(w)
                if w.state == "ok":
                    continue
                if w.state == "running":  # no result written
                    w.state = "lost"
                    w.detail = (f"killed by {_signal_name(rc)}" if rc < 0
                                else f"exited with code {rc} without a result")
                if stop_at is None:
                    stop_at = now + grace_s
                continue
            _load_result(w)  # a result written while the process waits for the release
            if w.result is not None:
                continue
            try:
                age = time.time() - w.heartbeat_path.stat().st_mtime if hang_timeout_s else 0.0
            except OSError:
                age = 0.0
            if hang_timeout_s and age > hang_timeout_s and now - w.started > hang_timeout_s:
                w.state = "hung"
                w.detail = f"no heartbeat for {age:.0f} s (hung or stopped); killed"
                try:
                    os.killpg(w.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                w.proc.wait()
                w.ended = now
                if stop_at is None:
                    stop_at = now + grace_s
        if not released and stop_at is None and all(w.result is not None for w in procs):
            release.touch()
            released = True
        running = [w for w in procs if w.state == "running"]
        if not running:
            return
        if stop_at is not None and now >= stop_at:
            for w in running:
                try:
                    age = time.time() - w.heartbeat_path.stat().st_mtime
                except OSError:
                    age = 0.0
                if w.result is not None:
                    w.state, w.detail = "stopped", "finished its work, stopped with the others"
                elif age > 3 * HEARTBEAT_S:  # a frozen process: it is the lost one, not a survivor
                    w.state, w.detail = "hung", f"no heartbeat for {age:.0f} s (hung or stopped); killed"
                else:
                    w.state, w.detail = "stopped", f"still running {grace_s:.0f} s after the failure; stopped"
            return
        if timeout_s is not None and now - start > timeout_s:
            for w in running:
                w.state, w.detail = "stopped", f"still running after the {timeout_s:.0f} s time limit; stopped"
            raise RunError(f"the workers did not finish within {timeout_s:.0f} s",
                           "raise the time limit or lower the work (--steps)")
        time.sleep(0.1)


def _describe(w: _Worker, count: int, t0: float) -> str:
    when = f" after {w.ended - t0:.1f} s" if w.ended is not None else ""
    who = f"worker {w.index} of {count} (pid {w.proc.pid})" if count > 1 else f"the worker process (pid {w.proc.pid})"
    if w.state == "failed":
        err = w.error or {}
        what = f"{err.get('type', 'Error')}: {_short(err.get('message', ''))}"
        return f"{who} failed{when}: {what}"
    if w.state == "lost":
        tail = _last_log_line(w.log_path)
        return f"{who} was lost{when} ({w.detail})" + (f"; its log ends: {_short(tail, 160)}" if tail else "")
    return f"{who} {w.state}{when} ({w.detail})"


def _outcome(procs: list[_Worker], count: int, logs_kept: bool = True) -> list[Any]:
    if all(w.state == "ok" for w in procs):
        return [w.result for w in procs]
    t0 = min(w.started for w in procs)
    for w in procs:
        msg = json.dumps(w.error or {}).lower() + _last_log_line(w.log_path).lower()
        if w.state in ("failed", "lost") and ("address already in use" in msg or "failed to bind" in msg
                                              or "could not start grpc server" in msg):
            raise _PortTaken()
    lost = [w for w in procs if w.state in ("lost", "hung")]
    failed = [w for w in procs if w.state == "failed"]
    if not lost and failed:
        codes = {int((w.error or {}).get("code") or 1) for w in failed}
        first = min(failed, key=lambda w: w.ended or 0)
        err = first.error or {}
        if len(codes) == 1 and err.get("dltool") and (len(failed) == len(procs) or count == 1):
            cls = _ERROR_CLASSES.get(codes.pop(), RunError)
            prefix = "" if count == 1 else f"worker {first.index}: "
            raise cls(prefix + err.get("message", "worker failed"), err.get("hint"))
    primary = sorted(lost, key=lambda w: w.ended or 0) or sorted(failed, key=lambda w: w.ended or 0)
    others = [w for w in procs if w not in primary[:1] and w.state != "ok"]
    parts = [_describe(primary[0], count, t0)] + [_describe(w, count, t0) for w in others]
    ended = "every worker process was stopped and reaped" if count > 1 else "the process was reaped"
    where = (f"logs: {primary[0].log_path.parent}" if logs_kept
             else "the worker logs are kept in the run folder (leave out --no-save)")
    raise RunError("; ".join(parts), f"{ended}; {where}")
