"""One thin module per subcommand. Each exposes ``register(app)``; the list below is the order of ``--help``."""

from dltool.cli.commands import allreduce, archcalc, cifar_adaptive, cutout, eggholder, fit_line, mnist, scale
from dltool.cli.commands import env, runs

COMMANDS = [fit_line.register, mnist.register, cifar_adaptive.register, scale.register, allreduce.register,
            archcalc.register, cutout.register, eggholder.register,
            runs.register, env.register]
