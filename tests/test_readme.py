"""The README's first lines are the two commands that must work on a fresh machine."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    lines = (ROOT / "README.md").read_text().splitlines()
    start = lines.index("```sh") + 1
    return lines[start:start + 2]


def test_first_lines_are_serve_then_test() -> None:
    serve, test = readme_commands()
    assert serve.endswith("booking-gateway serve")
    assert test.endswith("pytest")
    assert all(cmd.startswith("python3 -m venv .venv && ") for cmd in (serve, test))


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    _, test = readme_commands()
    assert test in (ROOT / ".ci" / "run").read_text().splitlines()
