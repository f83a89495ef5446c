"""Fixtures shared by every suite: the local stack (moto server + Listrak sandbox), and event builders."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# The tests' own catalog (a copy of the sample, same IDs): a user's edits to functions/send/catalog.toml never
# reach a test. The functions read it through CATALOG_PATH, as a deployment could.
FIXTURE_CATALOG = Path(__file__).resolve().parent / "fixtures" / "catalog.toml"
# A message a user might add: its trigger is one the template's rule does not deliver.
BACK_IN_STOCK = """
[messages.back-in-stock]
listId = 300001
transactionalMessageId = 7010

[messages.back-in-stock.event]
detailTypes = ["Back In Stock"]
emailAddress = "profile.email"
"""

# Whatever the developer's shell holds, tests never reach a real AWS account or Listrak.
for _name in (
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_SESSION_TOKEN",
    "LISTRAK_AUTH_URL",
    "LISTRAK_EMAIL_API_URL",
    "LISTRAK_DATA_API_URL",
    "LISTRAK_PRIVACY_API_URL",
    "LISTRAK_SMS_API_URL",
    "LOCAL_API_KEY",
):
    os.environ.pop(_name, None)
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ["CATALOG_PATH"] = str(FIXTURE_CATALOG)
# A `make api` the developer keeps running is not the tests' stack: `make invoke` in a test never attaches to it.
os.environ["LOCAL_STACK_STATE"] = str(FIXTURE_CATALOG.with_name("no-running-stack.json"))
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "listrak-tests")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ListrakTests")


@pytest.fixture(scope="session")
def _session_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from local_stack.stack import LocalStack

    stack = LocalStack(log_dir=tmp_path_factory.mktemp("function-logs"))
    stack.start()
    yield stack
    stack.stop()


@pytest.fixture
def stack(_session_stack: Any) -> Any:
    """The local stack with empty state and cold functions; Listrak retries kept short."""
    _session_stack.reset()
    _session_stack.env_overrides.update({"LISTRAK_RETRY_BUDGET_SECONDS": "3", "LISTRAK_READ_TIMEOUT": "2"})
    return _session_stack


@pytest.fixture
def sandbox(stack: Any) -> Any:
    return stack.sandbox


def api_event(body: Any, *, headers: dict[str, str] | None = None, raw: str | None = None) -> dict[str, Any]:
    from local_stack.api_server import proxy_event

    all_headers = {"Content-Type": "application/json", **(headers or {})}
    data = raw if raw is not None else json.dumps(body)
    return proxy_event("POST", "/messages", all_headers, data.encode("utf-8"), "/messages", {}, "v1")


def post_message(stack: Any, body: Any, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    response = stack.invoke("SendApiFunction", api_event(body, **kwargs))
    return response["statusCode"], json.loads(response["body"] or "{}")


def storefront_event(detail_type: str, detail: dict[str, Any], event_id: str = "evt-1") -> dict[str, Any]:
    return {
        "version": "0",
        "id": event_id,
        "detail-type": detail_type,
        "source": "com.example.storefront",
        "account": "123456789012",
        "time": "2026-11-22T15:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


def placed_order(**detail_overrides: Any) -> dict[str, Any]:
    """A storefront "Placed Order" event that the catalog maps to the order confirmation."""
    detail = {
        "profile": {"email": "jane.doe@example.com", "first_name": "Jane"},
        "properties": {
            "OrderId": "1003",
            "DiscountCode": "WELCOME10",
            "Items": [{"ProductName": "Shirt", "Quantity": 1, "ItemPrice": 39.0, "ImageURL": "https://x/s.jpg"}],
        },
        "value": 39.0,
        "unique_id": "1003",
    }
    detail.update(detail_overrides)
    return storefront_event("Placed Order", detail, event_id="evt-1003")


# A valid Listrak Review record, for the import tests.
REVIEW = {
    "provider": "Yotpo",
    "providerProductID": "A-1",
    "providerReviewID": "R-1",
    "title": "Great",
    "featured": False,
    "recommended": True,
}
