"""The local stack: moto for AWS, a Listrak sandbox, and the template's functions run in-process, without Docker."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"

# Functions import the shared layer as Lambda mounts it (/opt/python); mirror that here.
_LAYER = str(ROOT / "layers" / "shared")
if _LAYER not in sys.path:
    sys.path.insert(0, _LAYER)
