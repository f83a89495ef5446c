"""Keep personal data out of logs and records: addresses are masked or hashed, never stored whole."""

from __future__ import annotations

import hashlib


def mask_email(address: str) -> str:
    """'jane.doe@example.com' -> 'j***@example.com'. Enough to recognise a typo, not to mail anyone."""
    local, sep, domain = address.rpartition("@")
    if not sep or not local:
        return "***"
    return f"{local[0]}***@{domain}"


def email_fingerprint(address: str) -> str:
    """A stable SHA-256 of the normalised address, used to match Listrak activity rows without storing it."""
    return hashlib.sha256(address.strip().lower().encode("utf-8")).hexdigest()
