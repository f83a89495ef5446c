"""SnapStart runtime hooks: what a function does before Lambda snapshots it, and after a container is restored.

Before the snapshot, the function is primed: its services built (settings read, AWS and HTTP clients made, the
catalog parsed) and everything its first call would import imported (the Tracer and its X-Ray SDK included, where
tracing is on), so a restored container starts warm. No call leaves the container while priming: no token or secret
is fetched, so none is frozen into the snapshot.

After a restore, every container would otherwise share the snapshot's state:
- `random` is reseeded from the OS, so that retry jitter and lock back-off differ from container to container;
- every pooled HTTP connection (requests' and botocore's urllib3 pools) is dropped: a socket opened before the
  snapshot is dead after it, and a send that failed on it must never be taken for an answer that was lost;
- the cold-start flags of Powertools' Logger and Metrics are set again, so the first invocation of a restored
  container reports `ColdStart` as any new container does; a `SnapStartRestore` metric tells restores apart.

The hooks register with `snapshot_restore_py`, which the Lambda Python runtime provides (it must not be shipped in
the layer: a second copy would hold its own, never-run registry). Without it, `install` does nothing.
"""

from __future__ import annotations

import gc
import importlib
import json
import random
from collections.abc import Callable, Iterable
from typing import Any

from listrak_kit import tracing
from listrak_kit.observability import logger, metrics, tracer

__all__ = ["after_restore", "before_snapshot", "install", "rehearse"]


def install(prime: Callable[[], Any], *, modules: Iterable[str] = ()) -> bool:
    """Registers this function's hooks with the runtime; False where there is no runtime to register with."""
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:
        return False
    register_before_snapshot(before_snapshot, prime, tuple(modules))
    register_after_restore(after_restore)
    return True


def before_snapshot(prime: Callable[[], Any], modules: tuple[str, ...] = ()) -> None:
    for name in modules:
        importlib.import_module(name)
    if not tracer.disabled:
        tracer.load()
    prime()
    gc.collect()  # what priming left behind is not worth snapshotting


def after_restore() -> int:
    """Reseeds random, drops pooled connections, re-arms the cold-start flags; returns the pools dropped."""
    random.seed()  # from os.urandom
    dropped = drop_pooled_connections()
    _rearm_cold_start()
    metrics.add_metric(name="SnapStartRestore", unit="Count", value=1)
    logger.info("restored from a snapshot", extra={"connectionPoolsDropped": dropped})
    return dropped


def drop_pooled_connections() -> int:
    """Closes every urllib3 pool in the process; their managers open fresh connections on the next request."""
    from urllib3 import PoolManager

    dropped = 0
    for manager in [obj for obj in gc.get_objects() if isinstance(obj, PoolManager)]:
        dropped += len(manager.pools)
        manager.clear()
    return dropped


def _rearm_cold_start() -> None:
    import aws_lambda_powertools.logging.logger as logging_module
    from aws_lambda_powertools.metrics.provider import cold_start

    cold_start.reset_cold_start_flag()
    logging_module.is_cold_start = True
    tracing.rearm_cold_start()


def rehearse(app: Any, method: str, path: str) -> int:
    """An API function's first request, refused by validation before any route runs: it loads the resolver's
    validation machinery and builds its schemas without calling anything outside. Returns the status (400)."""
    event = {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "requestContext": {"resourcePath": path, "httpMethod": method, "path": path, "stage": "snapshot"},
        "body": json.dumps({"": None}),
        "isBase64Encoded": False,
    }
    return int(app.resolve(event, None)["statusCode"])
