"""The README stays true: every command is documented, and CI runs the README's test command."""

from __future__ import annotations

from pathlib import Path

from bot.commands.catalog import build_registry


def test_every_command_is_in_the_readme(repo_root: Path) -> None:
    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    for command in build_registry():
        first, *rest = command.name.split()
        documented = f"!{command.name}" in readme or (
            rest
            and f"!{first} " in readme
            and any(rest[0] in line for line in readme.splitlines() if f"!{first} " in line)
        )
        assert documented, command.name


def test_ci_runs_the_readme_test_command(repo_root: Path) -> None:
    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    assert "scripts/test" in readme
    assert "scripts/test" in (repo_root / ".ci" / "run").read_text(encoding="utf-8")
