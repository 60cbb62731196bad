"""Keep TensorFlow's C++ start-up chatter off the user's terminal.

TensorFlow 2.18+ prints "All log messages before absl::InitializeLog() is called are written to STDERR" and
INFO lines about oneDNN and CUDA stubs while its shared libraries load, before ``TF_CPP_MIN_LOG_LEVEL`` takes
effect, and "failed call to cuInit" when it first looks for GPUs on a machine without one. :func:`install` adds
an import hook: the first ``import tensorflow`` and its first GPU listing (which does not initialise the devices,
so virtual devices can still be configured after it) run with file descriptor 2 pointed at /dev/null, and
nothing else is touched (Python exceptions still propagate; later warnings and errors
print as usual). ``DLTOOL_TF_LOGS=1`` turns the silencing off, for debugging TensorFlow itself.

What the probe said is not thrown away: when it finds no GPU, its CUDA lines ("Could not find cuda drivers",
"Cannot dlopen some GPU libraries", "failed call to cuInit: …") are kept, and :func:`gpu_probe_reason` gives
the telling one to the "no GPU" error, which on a machine with an NVIDIA driver points to
``pip install 'dltool[gpu]'`` and ``DLTOOL_TF_LOGS=1`` rather than to ``--virtual``.

The same hook turns on memory growth for every GPU right after the import (before anything can start the
devices): otherwise each dltool process reserves nearly all memory of every visible GPU.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import os
import re
import sys
import tempfile

_probe_lines: list[str] = []  # the CUDA lines of the first GPU probe, kept when it found no GPU
_CUDA_WORDS = re.compile(r"cuda|cuinit|dlopen|gpu librar|libcud|driver", re.IGNORECASE)


@contextlib.contextmanager
def stderr_silenced(capture: list[str] | None = None):
    """File descriptor 2 away from the terminal; what was written there is appended to ``capture`` (lines)."""
    sys.stderr.flush()
    saved = os.dup(2)
    sink = tempfile.TemporaryFile(mode="w+b") if capture is not None else open(os.devnull, "wb")
    try:
        os.dup2(sink.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        if capture is not None:
            sink.seek(0)
            capture.extend(sink.read().decode("utf-8", "replace").splitlines())
        sink.close()


def gpu_probe_reason() -> str | None:
    """The most telling CUDA line TensorFlow printed while finding no GPU (None: none kept)."""
    lines = [ln for ln in _probe_lines if _CUDA_WORDS.search(ln)]
    if not lines:
        return None
    order = ("cuinit", "dlopen", "could not find cuda", "libcud")
    best = next((ln for key in order for ln in lines if key in ln.lower()), lines[-1])
    best = re.sub(r"^[IWEF]\d{4} [\d:.]+\s+\d+ \S+\] ", "", best.strip())  # absl's prefix
    return best[:200]


_after_import: list = []  # callables(tf) to run right after the first import (e.g. a launcher hiding its GPUs)


def after_import(fn) -> None:
    """Run ``fn(tensorflow)`` right after TensorFlow's first import in this process (now, if it was imported)."""
    module = sys.modules.get("tensorflow")
    if module is not None:
        fn(module)
        return
    _after_import.append(fn)
    install()


def _gpu_setup(module) -> None:
    """After the import: memory growth on every GPU, before anything starts the devices."""
    try:
        from dltool.engine.devices import enable_memory_growth

        enable_memory_growth(module)
    except Exception:  # noqa: BLE001 - never break the import; the engine sets it again where it matters
        pass
    while _after_import:
        fn = _after_import.pop(0)
        try:
            fn(module)
        except Exception:  # noqa: BLE001 - a set-up wish must not break the import
            pass


class _QuietTensorFlow(importlib.abc.MetaPathFinder):
    def __init__(self, quiet: bool = True) -> None:
        self.quiet = quiet

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)  # once; let the normal finders locate it
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        quiet = self.quiet

        def quiet_exec(module):
            captured: list[str] = []
            with (stderr_silenced(captured) if quiet else contextlib.nullcontext()):
                exec_module(module)
                try:  # the CUDA probe ("failed call to cuInit" on machines without a GPU) happens here, once
                    found = module.config.list_physical_devices("GPU")
                except Exception:  # noqa: BLE001 - a failed probe shows up again, audibly, where it matters
                    found = []
            if not found:
                _probe_lines[:] = captured
            _gpu_setup(module)

        spec.loader.exec_module = quiet_exec  # type: ignore[method-assign]
        return spec


def install() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules:
        return
    if not any(isinstance(f, _QuietTensorFlow) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlow(quiet=os.environ.get("DLTOOL_TF_LOGS") != "1"))
