"""How a command prints what it found: JSON with --json, else its text for people."""

from __future__ import annotations

import argparse
import json
from typing import Any


def emit(args: argparse.Namespace, value: Any, text: str) -> None:
    print(json.dumps(value, indent=2, default=str) if args.json else text)
