"""`make api` serves the API's OpenAPI document in Swagger UI, aimed at itself."""

from __future__ import annotations

import json
import threading

import requests

from local_stack import ROOT
from local_stack.api_server import make_server


def test_make_api_serves_swagger_ui_with_the_api_document_aimed_at_itself(stack) -> None:
    server = make_server(stack, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        page = requests.get(f"{base}/swagger", timeout=10)
        document = requests.get(f"{base}/swagger", params={"format": "json"}, timeout=10).json()
    finally:
        server.shutdown()
        server.server_close()

    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "SwaggerUIBundle" in page.text and "/messages/{reference}/resend" in page.text
    assert "<script src=" not in page.text  # the UI's assets are inlined: the page works offline
    committed = json.loads((ROOT / "openapi.json").read_text(encoding="utf-8"))
    assert document["paths"] == committed["paths"]
    assert document["servers"] == [{"url": base, "description": "make api (the local stack)"}]
