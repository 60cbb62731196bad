"""Result → tables (and plots), one module per command: the only place that decides what a user sees.

Each ``tables`` function takes an experiment's Result (pure numbers) and returns ``(tables, footer_lines)``;
each ``plots`` function writes PNGs into a run folder and returns their paths.
"""
