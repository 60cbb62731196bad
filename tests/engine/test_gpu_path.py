"""The GPU path on a machine without a GPU: what each process is told and which refusals come first.

Only a GPU can show memory reservations, NCCL's duplicate-GPU errors or CUDA libraries failing to load, so
those tests replace ``tf.config`` (or the GPU count) with a recording fake and assert the calls made and the
environment each worker gets; ``benchmarks/gpu_path_checks.py`` checks the same things on a real GPU.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from dltool.engine import devices
from dltool.errors import ExitCode, MissingError, UsageError


class FakeConfig:
    """A recording stand-in for ``tf.config`` on a machine with ``gpus`` GPUs (tests only: no GPU here)."""

    def __init__(self, gpus: int = 2, started: bool = False):
        self.gpus = [SimpleNamespace(name=f"/physical_device:GPU:{i}", device_type="GPU") for i in range(gpus)]
        self.calls: list[tuple] = []
        self.started = started  # TensorFlow's devices already initialised: configuration raises RuntimeError
        self.logical: dict[str, list] = {}
        self.experimental = SimpleNamespace(set_memory_growth=self._growth)
        self.LogicalDeviceConfiguration = lambda memory_limit=None: ("logical", memory_limit)

    def list_physical_devices(self, kind=None):
        return list(self.gpus) if kind == "GPU" else [SimpleNamespace(name="/physical_device:CPU:0")]

    def get_logical_device_configuration(self, device):
        return self.logical.get(device.name)

    def _check(self):
        if self.started:
            raise RuntimeError("Physical devices cannot be modified after being initialized")

    def _growth(self, device, on):
        self._check()
        self.calls.append(("memory_growth", device.name, on))

    def set_visible_devices(self, devices_, kind=None):
        self._check()
        self.calls.append(("visible", [d.name for d in devices_], kind))

    def set_logical_device_configuration(self, device, config):
        self._check()
        self.logical[device.name] = config
        self.calls.append(("logical", device.name, config))

    def list_logical_devices(self, kind=None):
        return []


def fake_tf(gpus: int = 2, started: bool = False):
    return SimpleNamespace(config=FakeConfig(gpus, started))


# ---- 3: one GPU of the user's mask per worker -------------------------------------------------------------

def test_each_local_worker_gets_its_own_gpu_of_the_users_mask():
    assert devices.worker_gpu_env(2, 4, environ={}) == [{"CUDA_VISIBLE_DEVICES": "0"},
                                                        {"CUDA_VISIBLE_DEVICES": "1"}]
    masked = {"CUDA_VISIBLE_DEVICES": "2,3"}  # TensorFlow sees 2 GPUs: physical 2 and 3
    assert devices.worker_gpu_env(2, 2, environ=masked) == [{"CUDA_VISIBLE_DEVICES": "2"},
                                                            {"CUDA_VISIBLE_DEVICES": "3"}]
    assert devices.worker_gpu_env(3, 0, environ={}) is None  # no GPUs: every worker on CPU


def test_more_local_workers_than_gpus_is_exit_3():
    with pytest.raises(MissingError) as info:
        devices.worker_gpu_env(3, 2, environ={"CUDA_VISIBLE_DEVICES": "2,3"})
    assert info.value.code == ExitCode.MISSING
    assert "3 local workers need 3 GPUs" in info.value.message and "2 are visible" in info.value.message


def test_one_process_on_fewer_gpus_sees_only_those_of_the_mask():
    assert devices.gpu_mask(1, 4, environ={}) == {"CUDA_VISIBLE_DEVICES": "0"}
    assert devices.gpu_mask(2, 3, environ={"CUDA_VISIBLE_DEVICES": "5,6,7"}) == {"CUDA_VISIBLE_DEVICES": "5,6"}
    assert devices.gpu_mask(4, 4, environ={}) is None and devices.gpu_mask(1, 0, environ={}) is None


def _capture_launch(monkeypatch, module):
    seen = {}

    def launch(target, doc, count, **kwargs):
        seen.update(count=count, worker_env=kwargs.get("worker_env"))
        raise KeyboardInterrupt  # stop here: only the environment is under test

    monkeypatch.setattr(module, "launch", launch)
    return seen


def test_mnist_workers_split_the_gpus_one_per_worker(monkeypatch, tmp_path):
    """Two GPUs (pretended: physical_gpus patched) and K=2: before, every worker took both GPUs."""
    from dltool.engine import workers
    from dltool.experiments.mnist import workers as exp

    monkeypatch.setattr(devices, "driver_gpu_count", lambda environ=None: 2)
    monkeypatch.setattr(devices, "launcher_holds_no_gpu", lambda: None)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3")
    monkeypatch.setattr(exp.common, "load_arrays", lambda *a, **k: None)
    seen = _capture_launch(monkeypatch, workers)
    with pytest.raises(KeyboardInterrupt):
        exp.run(exp.WorkersConfig(workers=[2], epochs=1))
    assert seen == {"count": 2, "worker_env": [{"CUDA_VISIBLE_DEVICES": "2"}, {"CUDA_VISIBLE_DEVICES": "3"}]}
    with pytest.raises(MissingError):  # 3 workers on 2 GPUs: refused before any process starts
        exp.run(exp.WorkersConfig(workers=[3], epochs=1))


def test_allreduce_workers_never_share_a_gpu(monkeypatch):
    from dltool.experiments import allreduce as exp

    monkeypatch.setattr(devices, "physical_gpus", lambda: 1)
    monkeypatch.setattr(devices, "launcher_holds_no_gpu", lambda: None)
    cfg = exp.AllreduceConfig(devices=[1], workers=2, communications=["ring"], train=False, gradients=False,
                              max_bytes=4096)
    from dltool.engine import workers

    monkeypatch.setattr(workers, "run_in_subprocess", lambda *a, **k: {"groups": [], "environment": {}})
    with pytest.raises(MissingError) as info:  # before: workers got i % 1, both on GPU 0
        exp.run(cfg)
    assert "2 workers (--workers) need 2 GPUs" in info.value.message


def test_scale_multiworker_respects_the_users_mask(monkeypatch):
    from dltool.engine import workers
    from dltool.experiments import scale as exp

    monkeypatch.setattr(exp, "_physical_gpus", lambda: 2)
    monkeypatch.setattr(devices, "launcher_holds_no_gpu", lambda: None)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3")
    seen = _capture_launch(monkeypatch, workers)
    cfg = exp.ScaleConfig(strategy="multiworker", learners=[2], model="softmax", dataset="synthetic", steps=4)
    with pytest.raises(KeyboardInterrupt):
        exp.run(cfg)
    assert seen["worker_env"] == [{"CUDA_VISIBLE_DEVICES": "2"}, {"CUDA_VISIBLE_DEVICES": "3"}]  # not 0, 1


def test_a_mirrored_run_sees_only_the_gpus_it_uses(monkeypatch):
    """--gpus 1,2 on 4 GPUs (count patched): the 1-GPU process sees one card; --virtual: one card to split."""
    from dltool.engine import workers
    from dltool.experiments import scale as exp

    monkeypatch.setattr(exp, "_physical_gpus", lambda: 4)
    monkeypatch.setattr(devices, "launcher_holds_no_gpu", lambda: None)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "4,5,6,7")
    envs = []
    monkeypatch.setattr(workers, "run_in_subprocess", lambda target, doc, **kw: envs.append(kw.get("env"))
                        or (_ for _ in ()).throw(KeyboardInterrupt()))
    for virtual, want in ((False, {"CUDA_VISIBLE_DEVICES": "4"}), (True, {"CUDA_VISIBLE_DEVICES": "4"})):
        with pytest.raises(KeyboardInterrupt):
            exp.run(exp.ScaleConfig(learners=[1, 2], virtual=virtual, model="softmax", dataset="synthetic",
                                    steps=4))
        assert envs.pop() == want


# ---- 4: memory growth before the devices start; the launcher holds no GPU --------------------------------

def test_memory_growth_is_set_on_every_gpu_that_is_not_split():
    tf = fake_tf(3)
    tf.config.logical["/physical_device:GPU:2"] = [("logical", 1024)]  # split: growth does not apply
    assert devices.enable_memory_growth(tf) == ["/physical_device:GPU:0", "/physical_device:GPU:1"]
    assert tf.config.calls == [("memory_growth", "/physical_device:GPU:0", True),
                               ("memory_growth", "/physical_device:GPU:1", True)]
    assert devices.enable_memory_growth(fake_tf(2, started=True)) == []  # too late: no crash, nothing claimed


def test_the_tensorflow_import_hook_sets_memory_growth():
    from dltool import quiet_tf

    tf = fake_tf(2)
    quiet_tf._gpu_setup(tf)  # what the hook runs right after `import tensorflow`, before any device starts
    assert [c[0] for c in tf.config.calls] == ["memory_growth", "memory_growth"]


def test_a_launcher_without_tensorflow_hides_its_gpus_right_after_the_first_import(tmp_path):
    """In a fresh process: the launcher asks before TensorFlow is imported (no import for it); the first import
    (tensorflow-datasets would do it to load data) then finds the GPUs hidden. The hiding call is recorded by
    replacing tf.config.set_visible_devices, since this machine has no GPU to hide."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from dltool.engine import devices\n"
        "calls = []\n"
        "def fake_hide(tf=None):\n"
        "    calls.append('tensorflow' in sys.modules)\n"
        "devices.hide_gpus = fake_hide\n"
        "devices.launcher_holds_no_gpu()\n"
        "before = list(calls)\n"
        "import tensorflow\n"
        "print(before, calls)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[-2] == "[] [True]"  # not before the import, once right after it


def test_make_strategy_sets_memory_growth_before_building_anything(monkeypatch):
    calls = []
    monkeypatch.setattr(devices, "enable_memory_growth", lambda tf=None: calls.append("growth") or [])
    strategy, setup = devices.make_strategy("default")
    assert calls == ["growth"] and setup.num_replicas == 1


def test_a_launcher_hides_its_gpus_before_it_loads_data(monkeypatch):
    tf = fake_tf(2)
    assert devices.hide_gpus(tf) is True
    assert tf.config.calls == [("visible", [], "GPU")]
    assert devices.hide_gpus(fake_tf(2, started=True)) is False

    from dltool.experiments import scale as exp

    order = []
    monkeypatch.setattr(exp, "_physical_gpus", lambda: 2)
    monkeypatch.setattr(devices, "launcher_holds_no_gpu", lambda: order.append("hide"))
    import dltool.data as data

    monkeypatch.setattr(data, "load", lambda *a, **k: order.append("load") or (_ for _ in ()).throw(
        KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        exp.run(exp.ScaleConfig(learners=[1, 2], model="softmax", dataset="mnist", steps=4))
    assert order == ["hide", "load"]


# ---- 5: NCCL on logical GPUs of one card -----------------------------------------------------------------

def test_nccl_on_virtual_devices_is_refused_before_tensorflow():
    from dltool.experiments import scale
    from dltool.experiments.mnist import devices as mnist_devices

    with pytest.raises(UsageError, match="one physical GPU per replica"):
        scale.ScaleConfig(learners=[1, 2], virtual=True, cross_device_ops="nccl").validate()
    with pytest.raises(UsageError, match="one physical GPU per replica"):
        mnist_devices.DevicesConfig(virtual=True, cross_device_ops="nccl").validate()
    scale.ScaleConfig(learners=[1, 2], virtual=True, cross_device_ops="hierarchical-copy").validate()


@pytest.mark.parametrize("args", [
    ["scale", "--gpus", "2", "--virtual", "--cross-device-ops", "nccl", "--model", "softmax", "--dataset",
     "synthetic", "--steps", "4"],
    ["mnist", "devices", "--devices", "1,2", "--virtual", "--cross-device-ops", "nccl"],
])
def test_nccl_on_virtual_devices_is_exit_2_and_one_line(cli, args, tmp_path):
    result = cli(*args, "--out", str(tmp_path / "run"))
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "nccl" in lines[0] and "Traceback" not in result.output
    assert not (tmp_path / "run").exists()


def test_mnist_devices_refuses_nccl_where_counts_become_virtual(monkeypatch):
    """1 GPU and --devices 1,2: the 2-device run would be 2 logical GPUs of one card (GPU count patched)."""
    from dltool.experiments.mnist import devices as exp

    monkeypatch.setattr(devices, "driver_gpu_count", lambda environ=None: 1)
    with pytest.raises(UsageError, match="one physical GPU per replica"):
        exp.run(exp.DevicesConfig(devices=[1, 2], cross_device_ops="nccl"))


# ---- 6: virtual GPUs: one card split with a real memory limit, the others hidden --------------------------

def test_virtual_gpus_split_one_card_hide_the_rest_and_take_the_given_memory(monkeypatch):
    tf = fake_tf(4)
    monkeypatch.setattr(devices, "_tf", lambda: tf)
    assert devices.configure_virtual_devices(2, "GPU", gpu_memory_mb=20_000) == "GPU"
    assert tf.config.calls == [("visible", ["/physical_device:GPU:0"], "GPU"),
                               ("memory_growth", "/physical_device:GPU:0", False),
                               ("logical", "/physical_device:GPU:0", [("logical", 20_000)] * 2)]


def test_virtual_gpu_memory_defaults_to_90_percent_of_the_card_split_evenly(monkeypatch):
    tf = fake_tf(1)
    monkeypatch.setattr(devices, "_tf", lambda: tf)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")
    asked = []
    monkeypatch.setattr(devices, "gpu_total_memory_mb", lambda i: asked.append(i) or 81_559)
    devices.configure_virtual_devices(4, "GPU")
    assert asked == ["3"]  # the card the user's mask names, not physical 0
    assert tf.config.calls[-1] == ("logical", "/physical_device:GPU:0", [("logical", int(81_559 * 0.9 / 4))] * 4)


def test_scale_passes_its_gpu_memory_to_the_split(monkeypatch):
    from dltool.experiments import scale

    seen = {}
    monkeypatch.setattr(devices, "configure_virtual_devices",
                        lambda n, device_type="auto", gpu_memory_mb=None: seen.update(n=n, mb=gpu_memory_mb)
                        or (_ for _ in ()).throw(KeyboardInterrupt()))
    cfg = scale.ScaleConfig(learners=[2], virtual=True, gpu_memory_mb=30_000)
    doc = scale._worker_config(cfg, 2)
    with pytest.raises(KeyboardInterrupt):
        scale.measure(doc)
    assert seen == {"n": 2, "mb": 30_000}


# ---- 7: no collective timeout unless asked ---------------------------------------------------------------

def test_no_collective_timeout_by_default():
    from dltool.experiments import allreduce, scale

    assert scale.ScaleConfig().collective_timeout_s is None
    assert allreduce.AllreduceConfig().collective_timeout_s is None
    assert devices.communication_options("ring").timeout_seconds is None
    assert devices.communication_options("ring", 600).timeout_seconds == 600
    with pytest.raises(UsageError):
        scale.ScaleConfig(learners=[1], collective_timeout_s=0).validate()


def test_scale_cli_passes_no_timeout_unless_given(cli, monkeypatch):
    from dltool.experiments import scale

    seen = {}

    def validate(self):
        seen["timeout"] = self.collective_timeout_s
        raise UsageError("stop", "test")

    monkeypatch.setattr(scale.ScaleConfig, "validate", validate)
    cli("scale", "--no-save")
    assert seen == {"timeout": None}
    cli("scale", "--timeout", "900", "--no-save")
    assert seen == {"timeout": 900.0}


# ---- 2: --xla with 2+ replicas -----------------------------------------------------------------------------

def test_xla_with_two_replicas_is_exit_2_before_anything_runs(cli, tmp_path):
    """Before: it trained into InvalidArgumentError ("…/replica_1 located in CPU:1 from CPU:0"), exit 1."""
    result = cli("scale", "--gpus", "1,2", "--virtual", "--xla", "--model", "softmax", "--dataset", "synthetic",
                 "--steps", "4", "--batch-size", "64", "--per-learner-batch", "32", "--out", str(tmp_path / "run"))
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "--xla" in lines[0] and "one replica" in lines[0]
    assert not (tmp_path / "run").exists()


def test_xla_on_one_replica_is_still_allowed():
    from dltool.experiments import scale

    assert scale.ScaleConfig(learners=[1], xla=True).validate() == [1]
    with pytest.raises(UsageError):
        scale.ScaleConfig(learners=[1, 2], xla=True, strategy="multiworker").validate()


# ---- 8: CUDA errors are not hidden --------------------------------------------------------------------------

def test_the_probes_cuda_reason_is_kept_and_shown(monkeypatch):
    from dltool import quiet_tf

    monkeypatch.setattr(quiet_tf, "_probe_lines", [
        "I0000 00:00:1795854764.832058     497 port.cc:153] oneDNN custom operations are on.",
        "W0000 00:00:1795854765.1     497 gpu_device.cc:2344] Cannot dlopen some GPU libraries. Please make sure "
        "the missing libraries mentioned above are installed properly"])
    assert quiet_tf.gpu_probe_reason().startswith("Cannot dlopen some GPU libraries")
    monkeypatch.setattr(devices, "nvidia_driver_present", lambda: True)
    hint = devices.no_gpu_hint("add --virtual")
    assert "pip install 'dltool[gpu]'" in hint and "DLTOOL_TF_LOGS=1" in hint and "Cannot dlopen" in hint
    assert hint.endswith("or add --virtual")
    monkeypatch.setattr(devices, "nvidia_driver_present", lambda: False)
    assert devices.no_gpu_hint("add --virtual") == "add --virtual"  # no driver: no GPU, as before


def test_scale_on_a_driver_machine_without_cuda_tensorflow_says_how_to_fix_it(cli, monkeypatch):
    monkeypatch.setattr(devices, "physical_gpus", lambda: 0)
    monkeypatch.setattr(devices, "nvidia_driver_present", lambda: True)
    result = cli("scale", "--gpus", "2", "--model", "softmax", "--dataset", "synthetic", "--no-save")
    assert result.exit_code == 3, result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "pip install 'dltool[gpu]'" in lines[0] and "DLTOOL_TF_LOGS=1" in lines[0]


def test_the_probe_output_is_captured_not_printed(tmp_path):
    import subprocess
    import sys

    code = ("import os; os.environ.pop('DLTOOL_TF_LOGS', None); from dltool import quiet_tf; quiet_tf.install(); "
            "import tensorflow as tf; n = len(tf.config.list_physical_devices('GPU')); "
            "print(n, bool(quiet_tf._probe_lines) if n == 0 else 'gpu')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    count, kept = done.stdout.split()
    if count == "0":
        assert kept == "True"  # TensorFlow's start-up lines were kept for the "no GPU" hint …
        assert "I0000" not in done.stderr  # … and not printed
