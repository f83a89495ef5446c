"""The Data API's import routes."""

from __future__ import annotations

import uuid

from local_stack.sandbox.data_rules import record_problems
from local_stack.sandbox.wire import (
    Reply,
    Request,
    invalid,
    malformed,
)


class DataRoutes:
    """Mixed into ListrakSandbox: its lock, counters and imports."""

    # POST /data/v1/{entity}
    def _handle_data(self, request: Request, params: tuple[str, ...]) -> Reply:
        self._authorize(request, "Data")
        entity = params[0]
        payload = self._json_body(request)
        if not isinstance(payload, list):
            raise malformed("The request body must be a JSON array.")
        if not payload:
            raise invalid("The request body must contain at least one record.")
        if not all(isinstance(record, dict) for record in payload):
            raise malformed("Every element of the request body must be a JSON object.")
        problems = record_problems(entity, payload)
        if problems:  # the whole request is refused: Listrak imports none of its records
            raise invalid(f"The {entity} records are invalid: " + "; ".join(problems))
        with self._lock:
            if self.keep_imported_records:
                self._imports[entity].append(payload)
            self._counters["data_imports"] += 1
            self._data_records[entity] += len(payload)
            self._data_requests[entity] += 1
        # The spec types resourceId as a string (one recorded answer had null); the id cannot be polled.
        return Reply(201, {"status": 201, "resourceId": str(uuid.uuid4())})
