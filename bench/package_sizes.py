"""Package sizes after `sam build`: what Lambda unzips (bytes on disk) and what it downloads (zipped)."""

from __future__ import annotations

import io
import zipfile

from bench.common import ROOT

BUILD = ROOT / ".aws-sam" / "build"


def measure() -> dict:
    if not BUILD.is_dir():
        raise RuntimeError("no .aws-sam/build: run `make build` first")
    sizes = {}
    for artifact in sorted(p for p in BUILD.iterdir() if p.is_dir()):
        files = [f for f in artifact.rglob("*") if f.is_file()]
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for file in files:
                archive.write(file, file.relative_to(artifact))
        sizes[artifact.name] = {
            "unzipped_kib": round(sum(f.stat().st_size for f in files) / 1024, 1),
            "zipped_kib": round(len(buffer.getvalue()) / 1024, 1),
        }
    return sizes
