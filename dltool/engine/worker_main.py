"""The process a worker runs: ``python -m dltool.engine.worker_main --target mod:fn --config c.json --result r.json``.

It ties its life to the launcher (``PR_SET_PDEATHSIG`` on Linux, and a thread that polls the parent), proves it
is alive by touching a heartbeat file every 2 s, calls ``fn(config)`` and writes ``{"ok": true, "result": …}``
or ``{"ok": false, "error": {…}}`` atomically. Exit status: 0, or the error's exit code.

Also: ``python -m dltool.engine.worker_main slurm-env [--port 8888]`` prints ``export TF_CONFIG=…`` (and
``CUDA_VISIBLE_DEVICES``) for this task of a Slurm job step, for ``eval "$(…)"`` inside ``srun``.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import sys
import threading
import time
import traceback
from pathlib import Path


def _die_with_parent(parent: int) -> None:
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if parent and os.getppid() != parent:  # the launcher is already gone
        os._exit(1)


def _heartbeat(path: Path | None, parent: int, every: float) -> None:
    while True:
        if parent and os.getppid() != parent:
            os._exit(1)
        if path is not None:
            try:
                path.touch()
            except OSError:
                pass
        time.sleep(every)


def _write_json(path: Path, doc: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, default=str, allow_nan=True))
    os.replace(tmp, path)


def run_target(target: str, config_path: Path, result_path: Path) -> int:
    from dltool.engine import workers
    from dltool.errors import DltoolError

    parent = int(os.environ.get(workers.ENV_PARENT, "0") or 0)
    _die_with_parent(parent)
    directory = os.environ.get(workers.ENV_DIR)
    index = os.environ.get(workers.ENV_INDEX, "0")
    beat = Path(directory) / f"heartbeat-{index}" if directory else None
    threading.Thread(target=_heartbeat, args=(beat, parent, workers.HEARTBEAT_S), daemon=True).start()
    try:
        config = json.loads(config_path.read_text())
        result = workers.resolve_target(target)(config)
        _write_json(result_path, {"ok": True, "result": result})
        if directory and int(os.environ.get(workers.ENV_COUNT, "1")) > 1:
            # stay until every peer is done: a peer may still pull the last collective's data from us
            release = Path(directory) / workers.RELEASE_FILE
            while not release.exists():
                time.sleep(0.05)
        return 0
    except DltoolError as err:
        _write_json(result_path, {"ok": False, "error": {
            "type": type(err).__name__, "message": err.message, "hint": err.hint, "code": int(err.code),
            "dltool": True}})
        return int(err.code)
    except BaseException as err:  # noqa: BLE001 - everything a worker can die of is reported
        traceback.print_exc()
        message = workers.summarise_error(str(err)) or repr(err)
        _write_json(result_path, {"ok": False, "error": {"type": type(err).__name__, "message": message,
                                                          "code": 1}})
        return 1


def main(argv: list[str] | None = None) -> int:
    from dltool import quiet_tf

    quiet_tf.install()  # worker logs stay readable: no TensorFlow start-up chatter
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "slurm-env":
        parser = argparse.ArgumentParser(prog="python -m dltool.engine.worker_main slurm-env")
        parser.add_argument("--port", type=int, default=8888, help="first port on each node")
        args = parser.parse_args(argv[1:])
        from dltool.engine.workers import slurm_tf_config
        from dltool.errors import DltoolError

        try:
            config, visible = slurm_tf_config(args.port)
        except DltoolError as err:
            print(f"error: {err.one_line()}", file=sys.stderr)
            return int(err.code)
        print(f"export TF_CONFIG={shlex.quote(json.dumps(config))}")
        if visible is not None:
            print(f"export CUDA_VISIBLE_DEVICES={shlex.quote(visible)}")
        return 0
    parser = argparse.ArgumentParser(prog="python -m dltool.engine.worker_main")
    parser.add_argument("--target", required=True, help="module:function to call with the config")
    parser.add_argument("--config", required=True, type=Path, help="JSON file with the config")
    parser.add_argument("--result", required=True, type=Path, help="where to write the JSON result")
    args = parser.parse_args(argv)
    return run_target(args.target, args.config, args.result)


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # os._exit: TensorFlow's collective threads can block a normal interpreter exit after a peer was lost
    os._exit(code)
