"""The package's layers are one-way: catalogue -> cube -> algorithms (kernels, products) -> workflows
-> display -> dashboards.  Every import in terra_lab (module level or inside a function) is read
from the source and must point to a lower floor: a product never imports the demo, a widget or a
dashboard; display never imports dashboards."""

from __future__ import annotations

import ast
from pathlib import Path

import terra_lab

ROOT = Path(terra_lab.__file__).parent

#: floor of each top-level part of the package; a part may import only from lower floors
FLOORS = {
    "errors": 0, "_paths": 0, "_version": 0, "_offline": 0,
    "profiles": 1,
    "kernels": 2, "catalog": 2,
    "cube": 3, "_cluster": 3,
    "products": 4,
    "workflows": 5, "demo": 5,
    "display": 6,
    "dashboards": 7,
    "cli": 8, "__init__": 9,
}


def _imports(path: Path) -> set[str]:
    """Top-level parts of terra_lab that the module at ``path`` imports."""
    pkg = list(path.relative_to(ROOT).parent.parts)
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = pkg[: len(pkg) - (node.level - 1)]
            target = base + (node.module.split(".") if node.module else [])
            found |= {target[0]} if target else {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("terra_lab."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("terra_lab.")}
    return found


def test_every_part_has_a_floor():
    parts = {p.stem if p.is_file() else p.name for p in ROOT.iterdir()
             if (p.suffix == ".py" or (p / "__init__.py").exists())}
    assert parts <= set(FLOORS), f"give these parts a floor in FLOORS: {sorted(parts - set(FLOORS))}"


def test_imports_point_down():
    upward = []
    for path in sorted(ROOT.rglob("*.py")):
        part = path.relative_to(ROOT).parts[0].removesuffix(".py")
        for target in _imports(path) - {part}:
            if target in FLOORS and FLOORS[target] >= FLOORS[part]:
                upward.append(f"{path.relative_to(ROOT.parent)} imports terra_lab.{target}")
    assert not upward, "imports that run back up the layers:\n" + "\n".join(upward)
