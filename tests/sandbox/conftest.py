"""Shared by the sandbox's own tests."""

import pytest
import requests


@pytest.fixture
def http():
    """One keep-alive session, as Listrak clients use."""
    with requests.Session() as session:
        yield session
