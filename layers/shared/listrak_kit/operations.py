"""Operator commands against a deployed stack, built from the import function's settings (its environment).

    PYTHONPATH=layers/shared python -m listrak_kit.operations resume orders/2026-11-22.csv [--version VERSION_ID]

`resume` imports a failed or abandoned file version again from its last accepted chunks: the ledger skips every
chunk Listrak already has, and the manifest goes back to `importing` until the file ends again.
"""

from __future__ import annotations

import argparse
import sys

from listrak_kit.services import import_pipeline
from listrak_kit.settings import ImportSettings, load_settings


def resume_import(key: str, *, version: str | None = None, owner: str = "resume") -> str:
    """Queues the failed or abandoned parts of one file version again; returns what happened, in one line."""
    return import_pipeline(load_settings(ImportSettings)).resume(key, version=version, owner=owner)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m listrak_kit.operations", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    resume = commands.add_parser("resume", help="import a failed file version again from its last accepted chunk")
    resume.add_argument("key", help="the file's key in the import bucket, e.g. orders/2026-11-22.csv")
    resume.add_argument("--version", help="the S3 VersionId (default: the current version)")
    args = parser.parse_args(argv)
    outcome = resume_import(args.key, version=args.version)
    print(f"{args.key}: {outcome}")
    return 0 if outcome.startswith("resumed") else 1


if __name__ == "__main__":
    sys.exit(main())
