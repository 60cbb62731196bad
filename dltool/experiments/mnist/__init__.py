"""``dltool mnist``: every MNIST study of the reports, on the engine, one module per study.

- :mod:`.softmax`  softmax regression, optimizer × learning rate (the report's 19-row Table 1), momentum study
- :mod:`.cnn`      Deep-MNIST CNN batch-size sweep, long runs, ``--target-accuracy`` and the ``fast99`` preset
- :mod:`.filters`  the small CNN of the filters study: learning-rate sweep and F = 8 … 256 filters
- :mod:`.mlp`      MLP 784-100-10: schedules, depth vs width, L1 vs dropout, layer normalisation, a gallery
- :mod:`.devices`  training time vs batch size on 1 / 2 / 4 devices (one subprocess per device count)
- :mod:`.workers`  K worker processes with MultiWorkerMirroredStrategy over disjoint shards

Each module: a ``…Config`` dataclass in, ``run(cfg, on_run=, progress=)`` → a ``…Result`` dataclass out. No
typer, rich or matplotlib here.
"""
