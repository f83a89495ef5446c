"""The license, the changelog and the version the README states."""

from __future__ import annotations

import hashlib
import re
import tomllib

from local_stack import ROOT

# SHA-256 of https://www.apache.org/licenses/LICENSE-2.0.txt, the standard text.
APACHE_2_0_SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def test_the_license_is_the_exact_apache_2_0_text():
    assert hashlib.sha256((ROOT / "LICENSE").read_bytes()).hexdigest() == APACHE_2_0_SHA256


def test_the_changelog_keeps_an_unreleased_section_above_the_current_version():
    text = (ROOT / "CHANGELOG.md").read_text()
    assert "[Keep a Changelog](https://keepachangelog.com/" in text
    releases = re.findall(r"^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$", text, re.MULTILINE)
    assert releases[0] == ("Unreleased", "")
    assert releases[1][0] == VERSION and releases[1][1]
    for section in re.findall(r"^### (.+)$", text, re.MULTILINE):
        assert section in {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}, section


def test_the_readme_opens_with_the_version():
    first_lines = (ROOT / "README.md").read_text().splitlines()[:4]
    assert any(f"Version {VERSION}" in line for line in first_lines)
