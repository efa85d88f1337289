"""docs/evaluation.md: its Python examples run, in order, as one script."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).parent.parent.parent / "docs" / "evaluation.md"


def test_the_examples_of_the_evaluation_guide_run():
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert len(blocks) >= 3
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)


def test_the_cli_guide_documents_every_evaluate_option():
    from typer.main import get_command

    from leadscore.cli import app

    section = (DOC.parent / "cli.md").read_text().split("## `leadscore evaluate`")[1]
    command = get_command(app).commands["evaluate"]  # type: ignore[attr-defined]
    for parameter in command.params:
        found = [o for o in parameter.opts if re.search(rf"(?<![\w-]){re.escape(o)}\b", section)]
        assert found, parameter.opts
