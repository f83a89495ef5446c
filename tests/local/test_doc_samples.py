"""The `make run` output the docs show is what `make run` prints: each line of the docs' samples, trimmed with
"...", must be found, piece by piece, in the real line that starts the same way."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from local_stack import ROOT

DOCS = ("README.md", "docs/local-development.md")


def shown_blocks(text: str) -> list[list[str]]:
    """The fenced blocks that show a `make run` (they end with its verdict)."""
    blocks: list[list[str]] = []
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("```"):
            if current is None:
                current = []
            else:
                blocks.append(current)
                current = None
        elif current is not None:
            current.append(line)
    return [block for block in blocks if any("samples behaved as designed" in line for line in block)]


def lead(line: str) -> tuple[str, ...]:
    """What a line is about: its sample, file or queue (a first word with . / or :), else its first words."""
    words = line.split()
    return tuple(words[:1]) if words and any(c in words[0] for c in "./:") else tuple(words[:3])


@pytest.fixture(scope="module")
def printed() -> list[str]:
    """`make run`'s output, from a process of its own as a user runs it (nothing left over from other tests)."""
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL" and not k.startswith("LISTRAK_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "layers" / "shared"), str(ROOT)])
    done = subprocess.run(
        [sys.executable, "-m", "local_stack.run"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout.splitlines()


@pytest.mark.parametrize("doc", DOCS)
def test_the_make_run_output_a_doc_shows_is_what_make_run_prints(doc, printed):
    blocks = shown_blocks((ROOT / doc).read_text(encoding="utf-8"))
    assert blocks, f"{doc} shows no make run output"
    real = {lead(line): line for line in printed if line.strip()}
    for block in blocks:
        for line in block:
            if not line.strip() or line.strip() == "...":
                continue
            found = real.get(lead(line))
            assert found is not None, f"{doc}: no line of make run starts like {line!r}"
            position = 0
            for piece in (p.strip() for p in line.split("...")):
                at = " ".join(found.split()).find(" ".join(piece.split()), position) if piece else position
                assert at >= 0, f"{doc}: {line!r}\n  make run prints: {found!r}"
                position = at + len(" ".join(piece.split()))
