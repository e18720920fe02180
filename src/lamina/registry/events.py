"""Events the registry announces after a change is committed (e.g. scan on push).

Listeners run as background tasks: a slow or failing listener never delays
or fails the request that caused the event.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from lamina.oci.digest import Digest

log = logging.getLogger("lamina.registry.events")


@dataclass(frozen=True)
class ManifestPushed:
    repository: str
    digest: Digest
    media_type: str
    tags: tuple[str, ...]
    subject: Digest | None
    user: str | None
    client: str


@dataclass(frozen=True)
class ManifestDeleted:
    repository: str
    digest: Digest
    user: str | None
    client: str


Event = ManifestPushed | ManifestDeleted
Listener = Callable[[Event], Awaitable[None]]


class EventBus:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def publish(self, event: Event) -> None:
        for listener in self._listeners:
            task = asyncio.get_running_loop().create_task(self._run(listener, event))
            self._tasks.add(task)  # keep a reference until done, or the task may vanish
            task.add_done_callback(self._tasks.discard)

    async def _run(self, listener: Listener, event: Event) -> None:
        try:
            await listener(event)
        except Exception:
            log.exception("event listener %r failed on %r", listener, event)

    async def drain(self) -> None:
        """Wait for running listeners (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
