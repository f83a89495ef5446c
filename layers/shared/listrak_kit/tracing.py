"""The shared Tracer, loaded by the first invocation that Lambda samples, not by the import of a handler.

Powertools' Tracer imports the X-Ray SDK (aws_xray_sdk.core, wrapt, asyncio) as it is made, even when tracing is
off: a cost that would fall on every cold start. `LazyTracer` keeps its decorator's semantics and makes the real
Tracer (which patches botocore and requests) only when an invocation will record a trace:
- Lambda decides per invocation whether a trace is sampled, and says so in `_X_AMZN_TRACE_ID` (`Sampled=1`).
  An unsampled invocation records nothing even with the SDK loaded, so until the first sampled one the handler
  runs bare: no SDK import, no segment. From the first sampled invocation on, every invocation goes through
  Powertools' Tracer, which patches the two libraries before the handler runs, so that invocation's AWS and
  Listrak calls are recorded as subsegments of the handler's `## lambda_handler`.
- A SnapStart function loads it before its snapshot (`listrak_kit.snapstart`), so a restored container has it.
- Where Powertools' Tracer would be disabled (POWERTOOLS_TRACE_DISABLED, outside Lambda, `sam local`), it is
  never loaded at all, unless a provider of one's own is given (`tracer.provider = ...`).
Without the SDK, botocore still forwards the trace header to AWS (its recursion-detection handler), so traces
downstream of an unsampled invocation stay linked as before.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

TRACE_HEADER = "_X_AMZN_TRACE_ID"  # set by the Lambda runtime before each invocation


def sampled() -> bool:
    """Whether Lambda records a trace of the current invocation."""
    header = os.environ.get(TRACE_HEADER, "")
    return any(part.strip() == "Sampled=1" for part in header.split(";"))


class LazyTracer:
    """Powertools' Tracer, made (and its libraries patched) when first needed; see the module's docstring."""

    def __init__(self, patch_modules: Sequence[str]) -> None:
        from aws_lambda_powertools.tracing.tracer import Tracer as PowertoolsTracer  # cheap: the SDK is lazy there

        self.patch_modules = tuple(patch_modules)
        self.disabled = bool(PowertoolsTracer._is_tracer_disabled())
        self._tracer: Tracer | None = None
        self._cold_start_spent = False

    @property
    def loaded(self) -> bool:
        return self._tracer is not None

    def load(self) -> Tracer:
        """The real Tracer: imports the X-Ray SDK and patches botocore and requests, once."""
        if self._tracer is None:
            from aws_lambda_powertools.tracing.tracer import Tracer as PowertoolsTracer

            self._tracer = PowertoolsTracer(disabled=self.disabled, patch_modules=self.patch_modules)
        return self._tracer

    def capture_lambda_handler(
        self,
        lambda_handler: Callable[..., Any] | None = None,
        capture_response: bool | None = None,
        capture_error: bool | None = None,
    ) -> Callable[..., Any]:
        """Powertools' `capture_lambda_handler`, applied when the first sampled invocation arrives."""
        if lambda_handler is None:
            return functools.partial(
                self.capture_lambda_handler, capture_response=capture_response, capture_error=capture_error
            )
        handler = lambda_handler
        traced: Callable[..., Any] | None = None

        @functools.wraps(handler)
        def decorate(event: Any, context: Any, **kwargs: Any) -> Any:
            nonlocal traced
            if traced is None:
                if not self.loaded and (self.disabled or not sampled()):
                    if not self._cold_start_spent:
                        _spend_cold_start()
                        self._cold_start_spent = True
                    return handler(event, context, **kwargs)
                traced = self.load().capture_lambda_handler(
                    handler, capture_response=capture_response, capture_error=capture_error
                )
            return traced(event, context, **kwargs)

        return decorate

    @property
    def provider(self) -> Any:
        return self.load().provider

    @provider.setter
    def provider(self, provider: Any) -> None:
        # Powertools' escape hatch (a provider of one's own, a recording one in tests): the real Tracer, with it,
        # then traces every invocation, as Powertools' Tracer does whatever its `disabled`.
        self.load().provider = provider

    def __getattr__(self, name: str) -> Any:
        # Anything else Powertools' Tracer offers (put_annotation, capture_method, ...) is the real one's.
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.load(), name)


def _spend_cold_start() -> None:
    """An invocation that ran untraced was the cold start if any was: the first traced one must not say it is."""
    import aws_lambda_powertools.tracing.tracer as powertools_tracer

    powertools_tracer.is_cold_start = False


def rearm_cold_start() -> None:
    """After a SnapStart restore: the next traced invocation is this container's cold start."""
    import aws_lambda_powertools.tracing.tracer as powertools_tracer

    powertools_tracer.is_cold_start = True
