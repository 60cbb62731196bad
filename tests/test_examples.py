"""Every example runs (tiny settings) and prints what it promises."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _env():
    env = dict(os.environ, ITERATIONS="50", PYTHON=sys.executable)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


@pytest.mark.slow  # ≈ 23 s on 2 cores
def test_pipeline_example():
    done = subprocess.run(["bash", str(EXAMPLES / "pipeline.sh")], capture_output=True, text=True, env=_env(),
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "vgg19\t 143,667,240" in done.stdout
    assert "largest layer: FC-4096 (7*7*512)*4096 = 102,760,448" in done.stdout
    assert "diverged" in done.stdout  # GD 0.3 on the line fit


def test_python_api_example():
    done = subprocess.run([sys.executable, str(EXAMPLES / "archcalc_api.py")], capture_output=True, text=True,
                          env=_env(), timeout=120)
    assert done.returncode == 0, done.stderr
    assert "VGG19: 143,667,240 parameters" in done.stdout
    assert "like one 7x7" in done.stdout and "see 7 pixels" in done.stdout
