"""The layer's arrows point down: a module imports its own feature's modules or the layers below, never a sibling
feature or anything above; and each handler loads only its own path."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KIT = ROOT / "layers" / "shared" / "listrak_kit"

# Lowest first. A module may import from its own group and from any group of a lower rank; groups that share a
# rank are sibling features and may not import each other.
RANKS: dict[str, int] = {
    "core": 0,
    "errors": 0,
    "clock": 0,
    "masking": 0,
    "observability": 0,
    "settings": 0,
    "snapstart": 0,
    "tracing": 0,
    "listrak": 1,
    "aws": 2,
    "idempotency": 3,
    "api": 3,
    "answers": 3,
    "catalog": 4,
    "send": 5,
    "resend": 5,
    "delivery": 5,
    "imports": 5,
    "privacy": 5,
    "sms": 5,
    "services": 6,
    "workers": 7,
}
KERNEL_RANK = 0  # the kernel's modules are one group: they may import each other


def group_of(module: str) -> str:
    return module.split(".")[1] if module.count(".") else "__init__"


def kit_modules() -> dict[str, Path]:
    return {
        ".".join(("listrak_kit", *path.relative_to(KIT).with_suffix("").parts)).removesuffix(".__init__"): path
        for path in KIT.rglob("*.py")
    }


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {name for name in names if name.startswith("listrak_kit.")}


def upward_arrows(modules: dict[str, Path]) -> list[str]:
    wrong = []
    for module, path in sorted(modules.items()):
        if module == "listrak_kit":
            continue
        own = group_of(module)
        for target in sorted(imported(path)):
            other = group_of(target)
            if other == own or (RANKS[own] == RANKS[other] == KERNEL_RANK):
                continue
            if RANKS[other] >= RANKS[own]:
                wrong.append(f"{module} imports {target}")
    return wrong


def test_every_module_of_the_layer_has_a_rank():
    assert {group_of(m) for m in kit_modules() if m != "listrak_kit"} == set(RANKS)


def test_no_module_imports_a_sibling_feature_or_anything_above_it():
    assert upward_arrows(kit_modules()) == []


def test_the_import_feature_reaches_aws_only_through_its_ports():
    # imports/ports.py declares the object store, the ledger and the queue; services.py plugs the aws/ adapters in.
    wrong = [
        f"{module} imports {target}"
        for module, path in sorted(kit_modules().items())
        if group_of(module) == "imports"
        for target in sorted(imported(path))
        if group_of(target) == "aws"
    ]
    assert wrong == []


def test_the_check_sees_an_upward_arrow(tmp_path):
    # catalog -> send is the kind of loop the check exists for.
    module = tmp_path / "model.py"
    module.write_text("from listrak_kit.send.models import SendRequest\n", encoding="utf-8")
    assert upward_arrows({"listrak_kit.catalog.model": module}) == [
        "listrak_kit.catalog.model imports listrak_kit.send.models"
    ]
    module.write_text("from listrak_kit.send.models import SendRequest\n", encoding="utf-8")
    assert upward_arrows({"listrak_kit.imports.records": module}) == [
        "listrak_kit.imports.records imports listrak_kit.send.models"
    ]


LOADED = """
import importlib.util, json, sys
sys.path[:0] = [sys.argv[2], sys.argv[3]]
spec = importlib.util.spec_from_file_location("handler", sys.argv[1])
spec.loader.exec_module(importlib.util.module_from_spec(spec))
print(json.dumps(sorted({m.split(".")[1] for m in sys.modules if m.startswith("listrak_kit.")})))
"""


def loaded_groups(handler: str) -> set[str]:
    folder = ROOT / "functions" / Path(handler).parent
    answer = subprocess.run(
        [sys.executable, "-c", LOADED, str(ROOT / "functions" / handler), str(folder), str(KIT.parent)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return set(json.loads(answer.stdout))


@pytest.mark.parametrize(
    ("handler", "own", "foreign"),
    [
        ("send/rest.py", "send", {"imports", "resend"}),
        ("send/events.py", "send", {"imports", "resend"}),
        ("send/hooks.py", "send", {"imports", "resend"}),
        ("resend/rest.py", "resend", {"imports", "send", "catalog"}),
        ("imports/rest.py", "services", {"send", "resend", "catalog"}),
        ("imports/events.py", "imports", {"send", "resend", "catalog"}),
    ],
)
def test_a_handler_loads_only_its_own_path(handler, own, foreign):
    groups = loaded_groups(handler)
    assert own in groups
    assert groups.isdisjoint(foreign)
