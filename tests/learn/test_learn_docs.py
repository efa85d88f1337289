"""docs/learning.md: its Python examples run, in order, as one script."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).parent.parent.parent / "docs" / "learning.md"


def test_the_examples_of_the_learning_guide_run() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert len(blocks) == 3
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)


def test_the_cli_guide_documents_every_learn_and_predict_option() -> None:
    from typer.main import get_command

    from leadscore.cli import app

    text = (DOC.parent / "cli.md").read_text()
    for name in ("learn", "predict"):
        section = text.split(f"## `leadscore {name}`")[1].split("\n## ")[0]
        command = get_command(app).commands[name]  # type: ignore[attr-defined]
        for parameter in command.params:
            found = [
                o for o in parameter.opts if re.search(rf"(?<![\w-]){re.escape(o)}\b", section)
            ]
            assert found, (name, parameter.opts)
