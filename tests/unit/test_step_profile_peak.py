"""benchmarks/step_profile.py divides a step's FLOP/s by the peak of the device the step ran on: the GPU's when
TensorFlow has one (a recording fake of ``tf.config`` stands in for it), not matmul_peak's default /cpu:0."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "step_profile.py"


def _module():
    spec = importlib.util.spec_from_file_location("step_profile", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fake_tf(gpus: int):
    asked = []

    def list_logical_devices(kind=None):
        asked.append(kind)
        return [SimpleNamespace(name=f"/device:GPU:{i}")
                for i in range(gpus)] if kind == "GPU" else [SimpleNamespace(name="/device:CPU:0")]

    return SimpleNamespace(config=SimpleNamespace(list_logical_devices=list_logical_devices)), asked


def test_gpu_steps_use_the_gpu_peak():
    tf, asked = _fake_tf(1)
    assert _module().peak_device(tf) == "/gpu:0" and asked == ["GPU"]


def test_cpu_steps_use_the_cpu_peak():
    tf, _ = _fake_tf(0)
    assert _module().peak_device(tf) == "/cpu:0"


def test_the_peak_is_asked_for_that_device(monkeypatch):
    """The peak is measured on the device the steps run on, at the precision profiled (a recorder stands in
    for matmul_peak, which is also what the script uses when none is given)."""
    from dltool.engine import peak

    module = _module()
    for gpus, device in ((1, "/gpu:0"), (0, "/cpu:0")):
        tf, _ = _fake_tf(gpus)
        measured = []

        def record(precision, on, measure=True):
            measured.append((precision, on))
            return 2.0e12

        assert module.device_peak(tf, "bf16", record) == (device, 2.0e12) and measured == [("bf16", device)]
        measured.clear()
        monkeypatch.setattr(peak, "matmul_peak", record)  # the default: dltool's matmul_peak, asked the same
        assert module.device_peak(tf, "fp32") == (device, 2.0e12) and measured == [("fp32", device)]
