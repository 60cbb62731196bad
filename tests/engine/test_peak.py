"""The matmul peak: measured with TensorFlow once, then read back from the cache without it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from dltool.engine import peak


def test_cache_roundtrip_and_no_tf_import(tmp_path, monkeypatch):
    monkeypatch.setenv("DLTOOL_CACHE_DIR", str(tmp_path))
    calls = []
    monkeypatch.setattr(peak, "measure_matmul", lambda precision, device: calls.append(precision) or 1e11)
    assert peak.matmul_peak("fp32") == 1e11
    assert peak.matmul_peak("fp32") == 1e11  # second time from the cache
    assert calls == ["fp32"]
    data = json.loads((tmp_path / peak.CACHE_FILE).read_text())
    assert data[peak.cpu_name()]["fp32"]["flops"] == 1e11
    code = ("import sys; from dltool.engine import peak; p = peak.cached_peaks(); "
            "assert p['fp32']['flops'] == 1e11, p; assert 'tensorflow' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, env={**__import__("os").environ,
                                                                  "DLTOOL_CACHE_DIR": str(tmp_path)})


def test_unknown_precision_and_mfu():
    with pytest.raises(ValueError, match="fp64"):
        peak.matmul_peak("fp64", measure=False)
    assert peak.mfu(5e10, 1e11) == 0.5
    assert peak.mfu(None, 1e11) is None and peak.mfu(1.0, None) is None


def test_measured_peak_is_plausible():
    """A real 512² fp32 matmul: at least 1 GFLOP/s on any machine that runs the tests, at most 1 PFLOP/s."""
    flops = peak.measure_matmul("fp32", "/cpu:0", n=512, repeats=2)
    assert 1e9 < flops < 1e15
