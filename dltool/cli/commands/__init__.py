"""One thin module per subcommand. Each exposes ``register(app)``; the list below is the order of ``--help``."""

from dltool.cli.commands import (
            allreduce,
            archcalc,
            cifar_adaptive,
            cutout,
            eggholder,
            env,
            fit_line,
            mnist,
            runs,
            scale,
)

COMMANDS = [fit_line.register, mnist.register, cifar_adaptive.register, scale.register, allreduce.register,
            archcalc.register, cutout.register, eggholder.register,
            runs.register, env.register]
