"""What the local commands share: a mistake is one line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable

from listrak_kit.errors import ConfigurationError


class UsageError(Exception):
    """A mistake in what the command was given (a file, a name); the message says what to do instead."""


def one_line_errors(command: str) -> Callable[[Callable[..., int]], Callable[..., int]]:
    """Exit 2 with `<command>: <message>` for a usage or configuration mistake (a broken catalog, say)."""

    def decorate(main: Callable[..., int]) -> Callable[..., int]:
        @functools.wraps(main)
        def wrapped(*args: object, **kwargs: object) -> int:
            try:
                return main(*args, **kwargs)
            except (UsageError, ConfigurationError) as exc:
                print(f"{command}: {exc}", file=sys.stderr)
                return 2

        return wrapped

    return decorate
