"""One thin module per subcommand. Each exposes ``register(app)``; the list below is the order of ``--help``."""

from dltool.cli.commands import archcalc, cifar_adaptive, cutout, eggholder, fit_line

COMMANDS = [fit_line.register, cifar_adaptive.register, cutout.register, archcalc.register, eggholder.register]
