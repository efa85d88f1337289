"""The ``leadscore`` command: a thin shell over the public API (SPEC §4).

Each module holds the commands of one domain; they are merged here into one
``leadscore`` command, started by :mod:`leadscore.launch`. Results go to stdout,
diagnostics to stderr, and a :class:`~leadscore.errors.LeadscoreError` prints as
its message and exits 2.
"""

from __future__ import annotations

import typer

from leadscore.cli import demo, evaluation, learning, models, quality, scoring

app = typer.Typer(
    name="leadscore",
    help="Score leads on fit and engagement, explain every point, learn from history.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)
for group in (demo, models, scoring, quality, learning, evaluation):
    app.add_typer(group.app)
