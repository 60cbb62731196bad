"""One thin module per subcommand. Each exposes ``register(app)``; the list below is the order of ``--help``."""

from dltool.cli.commands import archcalc, fit_line

COMMANDS = [fit_line.register, archcalc.register]
