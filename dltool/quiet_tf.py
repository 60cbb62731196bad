"""Keep TensorFlow's C++ start-up chatter off the user's terminal.

TensorFlow 2.18+ prints "All log messages before absl::InitializeLog() is called are written to STDERR" and
INFO lines about oneDNN and CUDA stubs while its shared libraries load, before ``TF_CPP_MIN_LOG_LEVEL`` takes
effect, and "failed call to cuInit" when it first looks for GPUs on a machine without one. :func:`install` adds
an import hook: the first ``import tensorflow`` and its first GPU listing (which does not initialise the devices,
so virtual devices can still be configured after it) run with file descriptor 2 pointed at /dev/null, and
nothing else is touched (Python exceptions still propagate; later warnings and errors
print as usual). ``DLTOOL_TF_LOGS=1`` turns it off, for debugging TensorFlow itself.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import os
import sys


@contextlib.contextmanager
def stderr_silenced():
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class _QuietTensorFlow(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)  # once; let the normal finders locate it
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def quiet_exec(module):
            with stderr_silenced():
                exec_module(module)
                try:  # the CUDA probe ("failed call to cuInit" on machines without a GPU) happens here, once
                    module.config.list_physical_devices("GPU")
                except Exception:  # noqa: BLE001 - a failed probe shows up again, audibly, where it matters
                    pass

        spec.loader.exec_module = quiet_exec  # type: ignore[method-assign]
        return spec


def install() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if os.environ.get("DLTOOL_TF_LOGS") == "1" or "tensorflow" in sys.modules:
        return
    if not any(isinstance(f, _QuietTensorFlow) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlow())
