"""THE training loop. Every command that trains goes through :class:`Engine`.

Shape (as in Keras' own TensorFlow trainer): ``train_step`` does the maths for one replica; it runs under
``strategy.run`` inside one ``tf.function`` that executes ``k`` steps per call (``steps_per_execution``), so
Python is not on the per-step path. The same code runs on one device, on N (virtual) devices with
MirroredStrategy, and on N worker processes with MultiWorkerMirroredStrategy, where Keras 3 ``fit`` fails
(keras-team/keras#20585).

- Loss: per-example loss → ``tf.nn.compute_average_loss`` over the *global* batch, plus the model's
  regularisation losses scaled by ``tf.nn.scale_regularization_loss``; Keras 3 optimizers sum the replicas'
  gradients, so the update equals one device on the same global batch.
- Precision: ``fp32``, ``bf16`` (mixed_bfloat16: matmuls 3.7× faster with AMX, 1.8× with AVX512-BF16 only),
  ``fp16`` (mixed_float16 with loss scaling; for GPUs). The loss is computed in float32.
- Divergence: a non-finite loss, or one above ``divergence_factor`` × the first loss, stops the run and marks
  it "diverged"; the curves keep the finite part.
- Updates: gradients are applied at one call site, :func:`dltool.engine.fused.apply_gradients`: TensorFlow's fused
  ``ResourceApply*`` kernels where they equal the Keras update, Keras' own update otherwise (docs/performance.md).
- Reuse: :meth:`Engine.reset` restores the initial weights and optimizer state and :meth:`set_learning_rate`
  changes η without retracing, so a learning-rate grid compiles once per optimizer.
- Input: on one device, arrays live in one tensor and each step gathers its batch (``FitConfig.input``);
  otherwise tf.data, auto-sharded by data, or with ``FitConfig.shard`` each input pipeline reads its own fixed
  indices (the mnist workers study: one disjoint shard per worker process).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from dltool.engine.fused import apply_gradients, fusable, prepare
from dltool.engine.loss_scale import agree_finite
from dltool.engine.precision import POLICIES, PRECISIONS
from dltool.engine.timing import StepTimer, Throughput


@dataclass
class FitConfig:
    epochs: int = 1
    batch_size: int = 32  # global batch (all replicas together)
    steps: int | None = None  # stop after this many steps in all (None: epochs decide)
    steps_per_execution: int | None = None  # steps per compiled call; None: min(steps per epoch, 50)
    shuffle: bool = True
    seed: int = 0
    target_accuracy: float | None = None  # stop when eval accuracy reaches it
    eval_every: int | None = None  # evaluate every N steps as well as at each epoch end
    divergence_factor: float = 1e4  # loss above this × first loss counts as diverged
    warmup_steps: int = 1  # steps excluded from timing (the first call, which traces, is always excluded)
    evaluate: bool = True  # evaluate on eval data at epoch ends
    input: str = "auto"  # "graph": arrays in one tensor, batches gathered in the step; "tfdata"; "auto": graph on
    #                      one device for in-memory arrays (< 2 GiB), tf.data otherwise (and on N replicas)
    map_fn: Callable | None = None  # (x, y) batch → (x, y) batch in the tf.data pipeline, after batching (augmentation)
    batch_multiplier: int = 1  # map_fn returns batches this many times larger (batch augmentation: M copies)
    shard: Callable[[int, int], Any] | None = None  # (pipeline i, pipelines K) → indices of the training arrays
    #                      that input pipeline i reads (e.g. one fixed shard per worker); None: tf.data shards
    #                      the whole set by DATA. See Engine.dataset.


@dataclass
class EpochLog:
    epoch: int
    steps: int
    train_loss: float
    train_accuracy: float | None
    eval_loss: float | None
    eval_accuracy: float | None
    seconds: float  # training seconds of this epoch (without evaluation)
    examples: int | None = None  # training examples this epoch (steps × examples per step, all replicas)
    learning_rate: float | None = None  # the optimizer's learning rate at the epoch's end


@dataclass
class FitResult:
    status: str  # finished | diverged | target reached
    epochs: list[EpochLog] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)  # training loss after each step (global batch mean)
    steps: int = 0
    train_seconds: float = 0.0  # training time without evaluation
    wall_seconds: float = 0.0  # everything, evaluation and tracing included
    step_time: float = float("nan")  # mean seconds per step, warmup excluded
    throughput: Throughput | None = None
    time_to_target: float | None = None  # training seconds until the target accuracy was first reached
    epoch_of_target: float | None = None
    evals: list[dict] = field(default_factory=list)  # {"step", "epoch", "loss", "accuracy", "train_seconds"}
    flops_per_example: float | None = None  # training FLOPs per example: 3 × forward (2 × MACs), see train_flops
    peak_flops: float | None = None  # measured matmul peak at this precision (engine/peak.py)
    mfu: float | None = None  # model FLOPs utilisation: flops_per_example × examples/s ÷ peak_flops

    @property
    def final_loss(self) -> float:
        return self.losses[-1] if self.losses else float("nan")

    @property
    def final_eval(self) -> dict | None:
        return self.evals[-1] if self.evals else None

    def to_dict(self) -> dict:
        from dataclasses import asdict

        out = asdict(self)
        out["throughput"] = self.throughput.to_dict() if self.throughput else None
        return out


class Hooks(Protocol):
    def on_fit_start(self, total_steps: int) -> None: ...
    def on_steps(self, steps_done: int, loss: float) -> None: ...
    def on_epoch_end(self, log: EpochLog) -> None: ...


class NoHooks:
    def on_fit_start(self, total_steps: int) -> None:
        pass

    def on_steps(self, steps_done: int, loss: float) -> None:
        pass

    def on_epoch_end(self, log: EpochLog) -> None:
        pass


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow (Keras' helper): a CPU run repeats exactly."""
    import keras

    keras.utils.set_random_seed(int(seed))


def per_example_loss(name: str | Callable) -> Callable:
    import tensorflow as tf

    if callable(name):
        return name
    if name in ("sparse_categorical_crossentropy", "sce", "xent"):
        return lambda y, logits: tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.cast(y, tf.int32), logits=logits)
    if name in ("mse", "mean_squared_error"):
        return lambda y, pred: tf.reduce_mean(tf.square(tf.reshape(tf.cast(y, pred.dtype), tf.shape(pred)) - pred),
                                              axis=-1)
    raise ValueError(f"unknown loss {name!r}")


class Engine:
    """A model, an optimizer and a strategy, trained by one compiled multi-step function.

    ``model_fn`` builds the Keras model and ``optimizer_fn`` the optimizer; both are called inside
    ``strategy.scope()`` (the model under the precision policy). The model outputs logits (classification) or
    values (regression). ``seed``: :func:`set_seed` first, so every engine built with one seed starts from the
    same weights.
    """

    def __init__(self, model_fn: Callable[[], Any], optimizer_fn: Callable[[], Any], *, loss: str | Callable = "sce",
                 classification: bool | None = None, strategy: Any = None, precision: str = "fp32",
                 jit_compile: bool = False, fused: bool = True, seed: int | None = None):
        import keras
        import tensorflow as tf

        if seed is not None:  # before the model: the same seed, the same initial weights and later draws
            set_seed(seed)

        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}")
        self.tf = tf
        self.strategy = strategy or tf.distribute.get_strategy()
        self.precision = precision
        self.jit_compile = jit_compile
        self.loss_name = loss
        self._loss = per_example_loss(loss)
        self.classification = (loss in ("sparse_categorical_crossentropy", "sce", "xent")
                               if classification is None else classification)
        previous = keras.config.dtype_policy()
        keras.config.set_dtype_policy(POLICIES[precision])
        try:
            with self.strategy.scope():
                self.model = model_fn()
                optimizer = optimizer_fn()  # Keras optimizers create variables in __init__: inside the scope
                if precision == "fp16":
                    optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
                self.optimizer = optimizer
                self.optimizer.build(self.model.trainable_variables)
                # fused optimizer kernels (engine/fused.py) where they reproduce the Keras update
                self.fused = bool(fused) and fusable(self.optimizer, self.strategy.num_replicas_in_sync)
                self._fused_scratch = prepare(self.optimizer, self.model.trainable_variables) if self.fused else []
        finally:
            keras.config.set_dtype_policy(previous)
        self._initial_weights = [v.numpy() for v in self.model.variables]
        self._initial_opt = [v.numpy() for v in self.optimizer.variables]
        self._train_fn = None
        self._eval_fn = None
        self._map_fn, self._batch_multiplier = None, 1

    # ---- state -------------------------------------------------------------------------------------------
    def reset(self) -> None:
        """Initial weights and a fresh optimizer state (iterations 0), without rebuilding or retracing."""
        for var, value in zip(self.model.variables, self._initial_weights):
            var.assign(value)
        for var, value in zip(self.optimizer.variables, self._initial_opt):
            var.assign(value)
        for var in self._fused_scratch:  # no state, but a diverged run's NaN would survive 0·v
            var.assign(self.tf.zeros_like(var))

    def current_learning_rate(self) -> float | None:
        """The optimizer's learning rate now (a schedule's value at the current step), or None if unreadable."""
        try:
            lr = self.optimizer.learning_rate
            return float(lr.numpy() if hasattr(lr, "numpy") else lr)
        except (TypeError, ValueError, AttributeError):
            return None

    def set_learning_rate(self, lr: float) -> None:
        self.optimizer.learning_rate = float(lr)

    @property
    def num_replicas(self) -> int:
        return self.strategy.num_replicas_in_sync

    def train_flops(self) -> float | None:
        """Training FLOPs per example: 3 × the forward FLOPs (forward 2 × MACs, counted per layer by
        dltool.archcalc from the built model; backward ≈ 2 × forward: gradients to inputs and to weights).
        The convention of PaLM's MFU and of Chinchilla's 6·N per token; element-wise work is not counted.
        None where the model cannot be counted (a layer archcalc does not know counts 0)."""
        if getattr(self, "_train_flops", 0) == 0:
            try:
                from dltool.archcalc.keras_model import report_from_model

                macs = report_from_model(self.model).total_macs
                self._train_flops = 3.0 * 2.0 * macs if macs > 0 else None
            except Exception:  # a model archcalc cannot walk (subclassed, no graph): no MFU rather than no run
                self._train_flops = None
        return self._train_flops

    def peak(self) -> float | None:
        """The measured matmul peak FLOP/s at this engine's precision on its first device (cached per machine;
        None in a multi-worker run before any single-process run has measured it)."""
        from dltool.engine.peak import matmul_peak

        device = "/gpu:0" if self.tf.config.list_logical_devices("GPU") else "/cpu:0"
        # worker processes share the machine: one measuring while the others run would cache a low peak, so
        # they only read the cache (a single-process run measures it once; MFU is None until then)
        measure = "MultiWorker" not in type(self.strategy).__name__
        return matmul_peak(self.precision, device, measure=measure)

    # ---- data --------------------------------------------------------------------------------------------
    def dataset(self, x, y, batch_size: int, *, shuffle: bool = False, seed: int = 0, repeat: bool = False,
                drop_remainder: bool = False, map_fn: Callable | None = None, shard: Callable | None = None):
        """A distributed ``tf.data`` pipeline over in-memory arrays (or a ready ``tf.data.Dataset`` of pairs).

        ``shard(i, k)``: input pipeline i of k reads only ``x[shard(i, k)]`` (``distribute_datasets_from_function``,
        the per-replica batch each, shuffled with seed + i) instead of the whole set auto-sharded by data."""
        tf = self.tf
        if shard is not None:
            return self._sharded_dataset(x, y, batch_size, shard, shuffle=shuffle, seed=seed, repeat=repeat,
                                         drop_remainder=drop_remainder, map_fn=map_fn)
        if isinstance(x, tf.data.Dataset):
            ds = x
        else:
            ds = tf.data.Dataset.from_tensor_slices((x, y))
        if shuffle:
            n = int(ds.cardinality())
            ds = ds.shuffle(n if n > 0 else 10_000, seed=seed, reshuffle_each_iteration=True)
        if repeat:
            ds = ds.repeat()
        ds = ds.batch(batch_size, drop_remainder=drop_remainder)
        if map_fn is not None:  # per-batch augmentation inside the pipeline (FitConfig.map_fn)
            ds = ds.map(map_fn, num_parallel_calls=tf.data.AUTOTUNE)
        ds = ds.prefetch(tf.data.AUTOTUNE)
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        options.deterministic = True
        ds = ds.with_options(options)
        return self.strategy.experimental_distribute_dataset(ds)

    def _sharded_dataset(self, x, y, batch_size: int, shard: Callable, *, shuffle: bool, seed: int, repeat: bool,
                         drop_remainder: bool, map_fn: Callable | None):
        tf = self.tf

        def per_pipeline(ctx):
            i, k = ctx.input_pipeline_id, ctx.num_input_pipelines
            index = shard(i, k)
            ds = tf.data.Dataset.from_tensor_slices((x[index], y[index]))
            if shuffle:
                ds = ds.shuffle(len(index), seed=seed + i, reshuffle_each_iteration=True)
            if repeat:
                ds = ds.repeat()
            ds = ds.batch(ctx.get_per_replica_batch_size(batch_size), drop_remainder=drop_remainder)
            if map_fn is not None:
                ds = ds.map(map_fn, num_parallel_calls=tf.data.AUTOTUNE)
            return ds.prefetch(tf.data.AUTOTUNE)

        return self.strategy.distribute_datasets_from_function(per_pipeline)

    # ---- compiled functions ------------------------------------------------------------------------------
    def _build_train_fn(self, global_batch: int):
        tf, model, optimizer, strategy = self.tf, self.model, self.optimizer, self.strategy
        loss_fn, classification = self._loss, self.classification
        fp16 = self.precision == "fp16"
        fused = self.fused

        def step(x, y):
            with tf.GradientTape() as tape:
                out = tf.cast(model(x, training=True), tf.float32)
                per_example = loss_fn(y, out)
                loss = tf.nn.compute_average_loss(per_example, global_batch_size=global_batch)
                if model.losses:
                    loss += tf.nn.scale_regularization_loss(tf.cast(tf.add_n(model.losses), tf.float32))
                scaled = optimizer.scale_loss(loss) if fp16 else loss
            variables = model.trainable_variables
            grads = tape.gradient(scaled, variables)
            if fp16:  # every replica skips an overflowed step, or none does (Keras asks replica 0 only)
                grads = agree_finite(grads)
            # THE one place gradients are applied (fused kernels where exact, see engine/fused.py; never fp16)
            apply_gradients(optimizer, grads, variables, fused=fused)
            if classification:
                correct = tf.reduce_sum(tf.cast(tf.equal(tf.argmax(out, axis=-1, output_type=tf.int32),
                                                         tf.cast(tf.reshape(y, [-1]), tf.int32)), tf.float32))
            else:
                correct = tf.constant(0.0)
            count = tf.cast(tf.shape(out)[0], tf.float32)
            return loss, correct, count

        if self.jit_compile:
            step = tf.function(step, jit_compile=True)

        def multi(iterator, k):
            losses = tf.TensorArray(tf.float32, size=k)
            correct = tf.constant(0.0)
            count = tf.constant(0.0)
            for i in tf.range(k):
                x, y = next(iterator)
                loss, c, n = strategy.run(step, args=(x, y))
                losses = losses.write(i, strategy.reduce("SUM", loss, axis=None))
                correct += strategy.reduce("SUM", c, axis=None)
                count += strategy.reduce("SUM", n, axis=None)
            return losses.stack(), correct, count

        map_fn = None if self._map_fn is None else self._map_fn

        def multi_in_graph(x_all, y_all, order, start, k):
            # The whole training set lives in one tensor; each step gathers its batch by index. On one device
            # this keeps tf.data's threads off the cores that compute (≈ 1.5× faster on a 2-core CPU).
            losses = tf.TensorArray(tf.float32, size=k)
            correct = tf.constant(0.0)
            count = tf.constant(0.0)
            batch = global_batch // self._batch_multiplier
            for i in tf.range(k):
                index = order[(start + i) * batch:(start + i + 1) * batch]
                x, y = tf.gather(x_all, index), tf.gather(y_all, index)
                if map_fn is not None:
                    x, y = map_fn(x, y)
                loss, c, n = strategy.run(step, args=(x, y))
                losses = losses.write(i, loss)
                correct += c
                count += n
            return losses.stack(), correct, count

        self._train_fn_in_graph = tf.function(multi_in_graph)
        return tf.function(multi)

    def _device_arrays(self, x, y):
        """The training arrays as tensors, converted once and reused while the same arrays come back."""
        key = (id(x), id(y), getattr(x, "shape", None))
        if getattr(self, "_arrays_key", None) != key:
            self._arrays = (self.tf.constant(x), self.tf.constant(y))
            self._arrays_key = key
        return self._arrays

    def _build_eval_fn(self):
        tf, model, strategy = self.tf, self.model, self.strategy
        loss_fn, classification = self._loss, self.classification

        def step(x, y):
            out = tf.cast(model(x, training=False), tf.float32)
            loss_sum = tf.reduce_sum(loss_fn(y, out))
            if classification:
                correct = tf.reduce_sum(tf.cast(tf.equal(tf.argmax(out, axis=-1, output_type=tf.int32),
                                                         tf.cast(tf.reshape(y, [-1]), tf.int32)), tf.float32))
            else:
                correct = tf.constant(0.0)
            return loss_sum, correct, tf.cast(tf.shape(out)[0], tf.float32)

        def run(dist_ds):
            loss_sum, correct, count = tf.constant(0.0), tf.constant(0.0), tf.constant(0.0)
            for x, y in dist_ds:
                part_loss, part_correct, part_count = strategy.run(step, args=(x, y))
                loss_sum += strategy.reduce("SUM", part_loss, axis=None)
                correct += strategy.reduce("SUM", part_correct, axis=None)
                count += strategy.reduce("SUM", part_count, axis=None)
            return loss_sum, correct, count

        return tf.function(run)

    # ---- public API --------------------------------------------------------------------------------------
    def evaluate(self, x, y=None, batch_size: int = 1000) -> tuple[float, float | None]:
        """Mean loss and accuracy (None for regression) over a whole set."""
        if self.num_replicas == 1 and hasattr(x, "nbytes") and x.nbytes < (1 << 31) and y is not None:
            return self._evaluate_in_graph(x, y, batch_size)
        return self._evaluate(self.dataset(x, y, batch_size))

    def _evaluate_in_graph(self, x, y, batch_size: int) -> tuple[float, float | None]:
        """One device, arrays in memory: the set as one tensor (converted once), batches sliced in one compiled
        loop. A tf.data pipeline per call cost ≈ 0.1 s, most of a softmax run's evaluation."""
        tf = self.tf
        key = (id(x), id(y), x.shape)
        cache = self.__dict__.setdefault("_eval_arrays", {})
        if key not in cache:
            cache.clear()
            cache[key] = (tf.constant(x), tf.constant(y))
        x_t, y_t = cache[key]
        if getattr(self, "_eval_graph_fn", None) is None:
            model, loss_fn, classification = self.model, self._loss, self.classification

            def run(x_all, y_all, batch):
                n = tf.shape(x_all)[0]
                loss_sum, correct = tf.constant(0.0), tf.constant(0.0)
                for start in tf.range(0, n, batch):
                    xb, yb = x_all[start:start + batch], y_all[start:start + batch]
                    out = tf.cast(model(xb, training=False), tf.float32)
                    loss_sum += tf.reduce_sum(loss_fn(yb, out))
                    if classification:
                        correct += tf.reduce_sum(tf.cast(tf.equal(
                            tf.argmax(out, axis=-1, output_type=tf.int32), tf.cast(tf.reshape(yb, [-1]), tf.int32)),
                            tf.float32))
                return loss_sum, correct, tf.cast(n, tf.float32)

            self._eval_graph_fn = tf.function(run)
        loss_sum, correct, count = (float(t) for t in self._eval_graph_fn(x_t, y_t, tf.constant(int(batch_size))))
        if count == 0:
            return float("nan"), None
        return loss_sum / count, (correct / count if self.classification else None)

    def _evaluate(self, ds) -> tuple[float, float | None]:
        if self._eval_fn is None:
            self._eval_fn = self._build_eval_fn()
        loss_sum, correct, count = (float(t) for t in self._eval_fn(ds))
        if count == 0:
            return float("nan"), None
        return loss_sum / count, (correct / count if self.classification else None)

    def predict(self, x, batch_size: int = 1000):
        import numpy as np

        return np.asarray(self.model.predict(x, batch_size=batch_size, verbose=0), dtype="float32")

    def fit(self, x, y, cfg: FitConfig, eval_data: tuple | None = None, hooks: Hooks | None = None) -> FitResult:
        """Train on arrays ``x, y`` (or a ``tf.data.Dataset`` of pairs with ``y=None`` and known cardinality)."""
        tf = self.tf
        hooks = hooks or NoHooks()
        n = int(x.cardinality()) if isinstance(x, tf.data.Dataset) else len(x)
        batch = int(cfg.batch_size)
        steps_per_epoch = max(1, n // batch)
        total = steps_per_epoch * int(cfg.epochs)
        if cfg.steps is not None:
            total = min(total, int(cfg.steps)) if cfg.epochs else int(cfg.steps)
        chunk = int(cfg.steps_per_execution or min(steps_per_epoch, 50))
        step_batch = batch * max(1, int(cfg.batch_multiplier))  # examples per step after map_fn
        if (self._train_fn is None or getattr(self, "_train_key", None) != (step_batch, cfg.map_fn)):
            self._map_fn, self._batch_multiplier = cfg.map_fn, max(1, int(cfg.batch_multiplier))
            self._train_fn = self._build_train_fn(step_batch)
            self._train_key = (step_batch, cfg.map_fn)
        in_graph = cfg.input == "graph" or (
            cfg.input == "auto" and self.num_replicas == 1 and not isinstance(x, tf.data.Dataset)
            and getattr(x, "nbytes", 1 << 40) < (1 << 31))
        if in_graph:
            import numpy as np

            if cfg.shard is not None and not np.array_equal(cfg.shard(0, 1), np.arange(n)):
                raise ValueError("in-graph input reads the whole set: the shard of one pipeline must be all of it "
                                 "(use input='tfdata')")
            x_all, y_all = self._device_arrays(x, y)
            iterator = None
        else:
            iterator = iter(self.dataset(x, y, batch, shuffle=cfg.shuffle, seed=cfg.seed, repeat=True,
                                         drop_remainder=True, map_fn=cfg.map_fn, shard=cfg.shard))
        order = None
        eval_ds = None
        if eval_data is not None and (cfg.evaluate or cfg.target_accuracy is not None):
            eval_ds = self.dataset(eval_data[0], eval_data[1], max(batch, 1000))

        result = FitResult(status="finished")
        timer = StepTimer(warmup_steps=max(1, cfg.warmup_steps))
        hooks.on_fit_start(total)
        wall_start = time.perf_counter()
        first_loss: float | None = None
        done, epoch = 0, 0
        epoch_loss, epoch_correct, epoch_count, epoch_steps, epoch_seconds = 0.0, 0.0, 0.0, 0, 0.0
        stop = False

        def run_eval(at_epoch: float) -> dict:
            loss, acc = self._evaluate(eval_ds)
            record = {"step": done, "epoch": at_epoch, "loss": loss, "accuracy": acc,
                      "train_seconds": result.train_seconds}
            result.evals.append(record)
            if (cfg.target_accuracy is not None and acc is not None and acc >= cfg.target_accuracy
                    and result.time_to_target is None):
                result.time_to_target = result.train_seconds
                result.epoch_of_target = at_epoch
            return record

        while done < total and not stop:
            k = min(chunk, total - done, steps_per_epoch - epoch_steps)
            if cfg.eval_every:  # end a call on each evaluation point
                k = min(k, cfg.eval_every - epoch_steps % cfg.eval_every)
            if in_graph and epoch_steps == 0:  # a new epoch: a new order of the examples (seeded)
                order = tf.constant(np.random.default_rng([cfg.seed, epoch]).permutation(n) if cfg.shuffle
                                    else np.arange(n), dtype=tf.int32)
            start = time.perf_counter()
            if in_graph:
                losses, correct, count = self._train_fn_in_graph(x_all, y_all, order, tf.constant(epoch_steps),
                                                                 tf.constant(k))
            else:
                losses, correct, count = self._train_fn(iterator, tf.constant(k))
            losses = losses.numpy()  # waits for the work: the time below is real
            seconds = time.perf_counter() - start
            timer.record(k, seconds)
            result.train_seconds += seconds
            epoch_seconds += seconds
            values = [float(v) for v in losses]
            if first_loss is None and values:
                first_loss = values[0]
            bad = next((i for i, v in enumerate(values) if not math.isfinite(v)
                        or v > cfg.divergence_factor * max(abs(first_loss or 1.0), 1e-12)), None)
            if bad is not None:
                result.losses.extend(v for v in values[:bad] if math.isfinite(v))
                result.status = "diverged"
                done += bad
                break
            result.losses.extend(values)
            done += k
            epoch_steps += k
            epoch_loss += float(sum(values))
            epoch_correct += float(correct)
            epoch_count += float(count)
            hooks.on_steps(done, values[-1])
            if (cfg.eval_every and eval_ds is not None and epoch_steps % cfg.eval_every == 0
                    and epoch_steps < steps_per_epoch):
                run_eval(epoch + epoch_steps / steps_per_epoch)
                stop = result.time_to_target is not None
            if epoch_steps == steps_per_epoch or done >= total or stop:
                at_epoch = epoch + epoch_steps / steps_per_epoch
                record = run_eval(at_epoch) if eval_ds is not None and not stop else (
                    result.evals[-1] if stop else {})
                log = EpochLog(epoch=epoch + 1, steps=epoch_steps, train_loss=epoch_loss / max(epoch_steps, 1),
                               train_accuracy=(epoch_correct / epoch_count) if self.classification and epoch_count
                               else None, eval_loss=record.get("loss"), eval_accuracy=record.get("accuracy"),
                               seconds=epoch_seconds, examples=epoch_steps * step_batch,
                               learning_rate=self.current_learning_rate())
                result.epochs.append(log)
                hooks.on_epoch_end(log)
                if result.time_to_target is not None:
                    stop = True
                epoch += 1
                epoch_loss, epoch_correct, epoch_count, epoch_steps, epoch_seconds = 0.0, 0.0, 0.0, 0, 0.0
        if result.time_to_target is not None:
            result.status = "target reached"
        result.steps = done
        result.wall_seconds = time.perf_counter() - wall_start
        result.step_time = timer.mean_step_time()
        result.throughput = timer.throughput(step_batch)
        self._add_mfu(result, step_batch)
        return result

    def _add_mfu(self, result: FitResult, step_batch: int) -> None:
        """MFU of the timed steps: all replicas' examples per second × FLOPs per example ÷ (peak × replicas)."""
        from dltool.engine.peak import mfu

        flops = self.train_flops()
        if math.isfinite(result.step_time) and result.step_time > 0:
            seconds_per_step = result.step_time
        elif result.steps and result.train_seconds > 0:  # one compiled call: nothing after warmup to time alone
            seconds_per_step = result.train_seconds / result.steps
        else:
            return
        if not flops:
            return
        result.flops_per_example = flops
        result.peak_flops = self.peak()
        gpus = len(self.tf.config.list_logical_devices("GPU"))
        # N replicas on GPUs have N peaks; N virtual CPU devices share the same cores: one machine's peak
        devices = min(self.num_replicas, gpus) if gpus else 1
        result.mfu = mfu(flops * step_batch / seconds_per_step, (result.peak_flops or 0) * devices)

