"""allreduce: sizes, the bus-bandwidth and α–β arithmetic, and real all-reduces whose sums are checked exactly
against numpy for every implementation that runs on CPU (hierarchical-copy, reduction-to-one-device, RING and
AUTO across 2 worker processes); NCCL gives an 'unavailable' row; hierarchical-copy on 3 devices is refused —
and forced, it really does give wrong sums, which the check catches."""

from __future__ import annotations

import pytest

from dltool.engine import workers
from dltool.errors import MissingError, UsageError
from dltool.experiments import allreduce as ar


def test_sizes_and_parsing():
    assert ar.parse_size("4K") == 4096 and ar.parse_size("256M") == 256 << 20 and ar.parse_size("1GiB") == 1 << 30
    assert ar.parse_size("4096") == 4096
    with pytest.raises(UsageError):
        ar.parse_size("lots")
    with pytest.raises(UsageError):
        ar.parse_size("2")
    cfg = ar.AllreduceConfig()
    sizes = cfg.sizes()
    assert sizes[0] == 4096 and sizes[-1] == 256 << 20 and len(sizes) == 9  # 4 KiB … 256 MiB, ×4
    assert ar.human_bytes(4096) == "4 KiB" and ar.human_bytes(256 << 20) == "256 MiB"


def test_bus_bandwidth_and_ring_model_arithmetic():
    assert ar.bus_factor(2) == 1.0 and ar.bus_factor(4) == 1.5 and ar.bus_factor(8) == 1.75
    # n = 4, α = 10 µs, B = 1 GB/s, S = 3 MB: 6·10 µs + 1.5·3 ms = 4.56 ms
    assert ar.ring_time(3e6, 4, 10e-6, 1e9) == pytest.approx(4.56e-3)


def test_alpha_beta_fit_recovers_the_model():
    alpha, bandwidth, n = 25e-6, 2e9, 4
    rows = [ar.BusRow("mirrored", "x", n, False, "m", s, 1, ar.ring_time(s, n, alpha, bandwidth), 0.0, 5, None, None)
            for s in ar.AllreduceConfig(max_bytes=64 << 20).sizes()]
    fit = ar.fit_alpha_beta(rows)
    # α from the 4 KiB message carries its transfer term, 4096/(n·B) = 0.5 µs: α comes out 25.5 µs
    assert fit.alpha_s == pytest.approx(alpha + 4096 / (n * bandwidth), rel=1e-9)
    assert fit.bandwidth == pytest.approx(bandwidth, rel=1e-3)  # the large messages barely feel that
    assert ar.fit_alpha_beta(rows[:1]) is None


def test_config_validation():
    with pytest.raises(UsageError):
        ar.AllreduceConfig(implementations=["magic"]).validate()
    with pytest.raises(UsageError):
        ar.AllreduceConfig(communications=["carrier-pigeon"]).validate()
    with pytest.raises(UsageError):
        ar.AllreduceConfig(workers=1).validate()
    with pytest.raises(UsageError):
        ar.AllreduceConfig(min_bytes=1 << 20, max_bytes=4096).validate()
    cfg = ar.AllreduceConfig(implementations=["hierarchical", "reduction"])
    cfg.validate()
    assert cfg.implementations == ["hierarchical-copy", "reduction-to-one-device"]


def test_memcpy_bandwidth_is_measured_above_the_caches():
    assert ar.MEMCPY_BYTES >= 64 << 20  # far above any L2 and above this machine's 32 MiB L3
    assert ar.memcpy_bandwidth(8 << 20, repeats=3) > 1e8  # any machine copies faster than 100 MB/s


def test_memcpy_size_does_not_follow_the_largest_message(monkeypatch):
    import dltool.engine.devices as devices

    sizes = []
    monkeypatch.setattr(devices, "physical_gpus", lambda: 0)
    monkeypatch.setattr(ar, "memcpy_bandwidth", lambda size=ar.MEMCPY_BYTES, repeats=5: sizes.append(size) or 1e10)
    # nothing runs (NCCL has no CPU kernel, no workers): only the memcpy reference is measured
    result = ar.run(ar.AllreduceConfig(devices=[2], virtual=True, implementations=["nccl"], workers=0,
                                       max_bytes=256 << 10, train=False))
    assert sizes == [ar.MEMCPY_BYTES] and result.memcpy_bytes == ar.MEMCPY_BYTES


def test_quick_preset_has_the_one_device_baseline():
    QUICK = ar.AllreduceConfig.QUICK

    assert 1 in QUICK["devices"] and max(QUICK["devices"]) >= 2


def test_needs_virtual_without_gpus(monkeypatch):
    import dltool.engine.devices as devices

    monkeypatch.setattr(devices, "physical_gpus", lambda: 0)
    with pytest.raises(MissingError) as info:
        ar.run(ar.AllreduceConfig(devices=[2]))
    assert "--virtual" in info.value.hint


@pytest.mark.slow  # ≈ 27 s on 2 cores
def test_every_cpu_implementation_sums_exactly():
    cfg = ar.AllreduceConfig(devices=[2, 3], virtual=True, workers=2, communications=["auto", "ring", "nccl"],
                             min_bytes=4096, max_bytes=64 << 10, iterations=3, model="softmax", train=False)
    groups = []
    result = ar.run(cfg, on_run=groups.append)
    ran = [r for r in result.bus if r.status not in ("unavailable", "refused")]
    kinds = {(r.strategy, r.implementation, r.devices) for r in ran}
    assert kinds == {("mirrored", "hierarchical-copy", 2), ("mirrored", "reduction-to-one-device", 2),
                     ("mirrored", "reduction-to-one-device", 3), ("multiworker", "auto", 2),
                     ("multiworker", "ring", 2)}
    for r in ran:
        assert r.verified is True and r.max_error == 0.0 and r.status == "ok"
        assert r.time_s > 0 and r.algbw == pytest.approx(r.bytes / r.time_s)
        assert r.busbw == pytest.approx(r.algbw * 2 * (r.devices - 1) / r.devices)
        assert r.predicted_s is not None and r.predicted_s > 0
    per_kind = {k: [r for r in ran if (r.strategy, r.implementation, r.devices) == k] for k in kinds}
    for rows in per_kind.values():
        messages = [r.message for r in rows]
        assert messages == ["4 KiB", "16 KiB", "64 KiB", "gradients (2 tensors)"]  # softmax: kernel and bias
        assert rows[-1].bytes == 4 * (28 * 28 * 10 + 10)
    skipped = {(r.strategy, r.implementation, r.devices): r for r in result.bus if r not in ran}
    assert skipped[("mirrored", "nccl", 2)].status == "unavailable" and "CPU" in skipped[("mirrored", "nccl", 2)].reason
    assert skipped[("multiworker", "nccl", 2)].status == "unavailable"
    assert skipped[("mirrored", "hierarchical-copy", 3)].status == "refused"
    assert "2 groups" in skipped[("mirrored", "hierarchical-copy", 3)].reason
    assert {(f.strategy, f.implementation, f.devices) for f in result.fits} == kinds
    assert len(groups) == 9  # every (implementation, n), run or not, handed to on_run as it finished


def test_the_check_catches_hierarchical_copy_on_three_devices():
    """Forced past the refusal, HierarchicalCopyAllReduce on 3 devices returns wrong sums: the check sees it."""
    doc = {"devices": 3, "virtual": True, "implementations": ["hierarchical-copy"], "sizes": [4096],
           "iterations": 2, "warmup": 1, "seed": 0, "model": "softmax", "gradients": False, "train": False,
           "precision": "fp32"}
    out = workers.run_in_subprocess("dltool.experiments.allreduce:measure_mirrored", doc)
    (row,) = out["groups"][0]["bus"]
    assert row["verified"] is False and row["status"] == "WRONG SUM" and row["max_error"] >= 1.0


@pytest.mark.slow  # ≈ 35 s on 2 cores
def test_training_throughput_rows():
    cfg = ar.AllreduceConfig(devices=[1, 2], virtual=True, implementations=["reduction-to-one-device"], workers=0,
                             min_bytes=4096, max_bytes=4096, iterations=3, model="softmax", train_steps=6,
                             per_device_batch=16, gradients=False)
    result = ar.run(cfg)
    rows = {(t.implementation, t.devices): t for t in result.train}
    assert set(rows) == {("none", 1), ("reduction-to-one-device", 2)}
    one, two = rows[("none", 1)], rows[("reduction-to-one-device", 2)]
    assert one.global_batch == 16 and two.global_batch == 32
    assert one.throughput > 0 and two.throughput > 0 and one.speedup == pytest.approx(1.0)
    assert two.speedup == pytest.approx(two.throughput / one.throughput)
    assert two.efficiency == pytest.approx(two.speedup / 2)


def test_quick_preset_and_sizes_not_given():
    cfg = ar.AllreduceConfig.from_options(True, max_bytes=ar.parse_size(None))
    assert cfg.virtual and cfg.max_bytes == 256 << 10 and (cfg.train_steps, cfg.per_device_batch) == (4, 16)
    assert ar.AllreduceConfig.from_options(True, max_bytes=ar.parse_size("1M")).max_bytes == 1 << 20
    assert ar.AllreduceConfig.from_options(False).max_bytes == 256 << 20
