"""Byte sizes as text (dltool.units) and the α–β ring model (dltool.engine.ring): the shared functions the
allreduce study and its report view both use."""

from __future__ import annotations

import pytest

from dltool.engine.ring import ring_time
from dltool.units import human_bytes


def test_human_bytes():
    assert human_bytes(100) == "100 B" and human_bytes(1023) == "1023 B"
    assert human_bytes(4096) == "4 KiB" and human_bytes(1536) == "1.5 KiB"
    assert human_bytes(256 << 20) == "256 MiB" and human_bytes(3 << 29) == "1.5 GiB"


def test_ring_time():
    # n = 4, α = 10 µs, B = 1 GB/s, S = 3 MB: 2(n−1)·α = 60 µs plus 2(n−1)/n · S/B = 4.5 ms
    assert ring_time(3e6, 4, 10e-6, 1e9) == pytest.approx(4.56e-3)
    assert ring_time(3e6, 1, 10e-6, 1e9) == 0.0  # one device: nothing to reduce
