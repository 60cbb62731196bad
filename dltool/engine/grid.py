"""Sweeps that train one setting after another through :class:`~dltool.engine.loop.Engine`.

- :class:`EngineSweep`: an engine per setting key, built on the key's first setting right after seeding, so every
  setting starts from the same weights (:func:`~dltool.engine.loop.set_seed`, then the model). With a
  learning rate per setting, a key's later settings reuse its engine through ``reset()`` +
  ``set_learning_rate()``: one trace per key, not per setting (the 19 rows of softmax's Table 1 train on 6 engines).
  A key per setting (cifar-adaptive's methods, cutout's M) builds one engine per setting.
- :func:`optimizer_grid`: the (optimizer, learning rate, momentum) grid of fit-line and softmax: one engine per
  (optimizer, momentum), its learning rates reuse it.

A sweep silences TensorFlow's retracing warning while it runs (:func:`quiet_retracing`): one trace per engine
is expected there, not a leak.
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Hashable, Iterable, Iterator, Sequence

from dltool.engine.loop import Engine, set_seed


@contextlib.contextmanager
def quiet_retracing():
    """Silence TensorFlow's "N out of the last M calls … triggered tf.function retracing" warning for a sweep
    that builds one Engine per run (its own model and optimizer): one trace per run is expected, not a leak."""
    import tensorflow as tf

    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")
    try:
        yield
    finally:
        logger.setLevel(level)


class EngineSweep:
    """Engines for a sequence of settings.

    ``build(setting)`` returns a new Engine; it runs right after ``set_seed(seed)`` (no seeding with None).
    ``key(setting)`` says which settings share an engine (default: the setting itself). ``lr(setting)`` gives
    the setting's learning rate: the engine is then reset to its initial weights and optimizer state and set to
    that rate before each setting, new or reused; without ``lr`` an engine is used as built.
    """

    def __init__(self, build: Callable[[Any], Engine], *, seed: int | None = None,
                 key: Callable[[Any], Hashable] | None = None, lr: Callable[[Any], float] | None = None):
        self.build, self.seed, self.key, self.lr = build, seed, key, lr
        self.engines: dict[Hashable, Engine] = {}

    @property
    def built(self) -> int:
        """Engines built so far (one trace each)."""
        return len(self.engines)

    def engine(self, setting: Any) -> Engine:
        """The engine for ``setting``, ready to fit."""
        k = setting if self.key is None else self.key(setting)
        if k not in self.engines:
            if self.seed is not None:
                set_seed(self.seed)
            self.engines[k] = self.build(setting)
        engine = self.engines[k]
        if self.lr is not None:
            engine.reset()
            engine.set_learning_rate(self.lr(setting))
        return engine

    def run(self, settings: Iterable[Any], *, label: Callable[[Any], str] | None = None,
            progress: Any = None) -> Iterator[tuple[Any, Engine]]:
        """(setting, engine) for each setting in order; ``progress.start_run(label(setting))`` before each.
        Retracing warnings stay silent until the last setting is done."""
        with quiet_retracing():
            for setting in settings:
                engine = self.engine(setting)
                if progress is not None and label is not None:
                    progress.start_run(label(setting))
                yield setting, engine


def setting_label(name: str, lr: float, momentum: float | None) -> str:
    """"adam lr=0.01", "momentum lr=0.1 μ=0.8"."""
    return f"{name} lr={lr:g}" + (f" μ={momentum:g}" if momentum is not None else "")


def optimizer_grid(model_fn: Callable[[], Any], *, seed: int | None, defaults: str = "keras",
                   **engine_kwargs: Any) -> EngineSweep:
    """An :class:`EngineSweep` over (optimizer, lr, momentum) settings: one engine per (optimizer, momentum),
    built with ``model_fn``, the optimizer at the key's first learning rate (``momentum`` None: 0.9, unused by
    optimizers without one) and ``engine_kwargs``; its other learning rates reuse it."""
    from dltool.engine.optimizers import make_optimizer

    def build(setting: Sequence) -> Engine:
        name, lr, momentum = setting
        return Engine(model_fn, lambda: make_optimizer(name, lr, momentum=momentum or 0.9, defaults=defaults),
                      **engine_kwargs)

    return EngineSweep(build, seed=seed, key=lambda s: (s[0], s[2]), lr=lambda s: s[1])
