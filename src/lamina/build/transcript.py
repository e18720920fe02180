"""What a build says, said once: to the chosen progress output and into the replay record.

The builder reports events (a step starts, a step's result, a warning); the
transcript shows each through the `Progress` the user chose (classic ``Step N/M``
lines, or BuildKit's ``#N`` lines) and keeps, as events, what a fully cached
rebuild would show, so `lamina.build.replay` can show it again through any
progress output without rebuilding. Stages that build at the same time each get a
`StageTranscript`; their events are put back in stage order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

from lamina.build.progress import Progress
from lamina.build.replay import Event, Record, forget, save


class StageTranscript:
    """One stage's lines, written to that stage's progress output."""

    def __init__(self, progress: Progress, total: int, events: list[Event]) -> None:
        self.progress = progress
        self._total = total
        self._events = events

    def stage(self, name: str, first: int, count: int) -> None:
        self.progress.stage(name, first, count)
        self._events.append(["stage", name, first, count])

    def step(self, number: int, text: str) -> None:
        self.progress.step(number, self._total, text)
        self._events.append(["step", number, self._total, text])

    def base(self, short_id: str) -> None:
        self.progress.result(short_id)
        self._events.append(["result", short_id])

    def triggers(self, count: int) -> None:
        """Not kept: a build that runs ONBUILD triggers is never replayed."""
        self.progress.line(f"# Executing {count} build trigger{'s' if count > 1 else ''}")

    def cached(self) -> None:
        self.progress.cached()  # kept by `result`, which follows

    def running(self, container: str) -> None:
        self.progress.running(container)  # a replay runs nothing

    def removing(self, container: str) -> None:
        self.progress.removing(container)

    def result(self, short_id: str) -> None:
        """The step's image; a rebuild with nothing changed finds it in the cache."""
        self.progress.result(short_id)
        self._events += [["cached"], ["result", short_id]]

    def sink(self) -> IO[bytes] | Callable[[bytes], object]:
        """Where a RUN container's output goes (never replayed: a replay runs nothing)."""
        return self.progress.sink()


class Transcript:
    """The whole build's output and replay record."""

    def __init__(self, progress: Progress, warn: Callable[[str], None], *,
                 replayable: bool) -> None:
        self.progress = progress
        self._warn = warn
        self.total = 0
        self.replayable = replayable  # can a later build with the same request replay this one
        self.record = Record()
        self._head: list[Event] = []
        self._stages: dict[int, list[Event]] = {}
        self._tail: list[Event] = []

    def steps(self, total: int) -> None:
        self.total = total
        self.progress.total = total

    def global_arg(self, number: int, text: str) -> None:
        self.progress.step(number, self.total, text)
        self._head.append(["step", number, self.total, text])

    def stage(self, index: int, progress: Progress) -> StageTranscript:
        return StageTranscript(progress, self.total, self._stages.setdefault(index, []))

    def warn(self, message: str) -> None:
        self.replayable = False  # replays print no warnings
        self._warn(message)

    def finish(self, short_id: str, tags: Iterable[str]) -> None:
        self.progress.built(short_id)
        self._tail.append(["built", short_id])
        for tag in tags:
            self.progress.tagged(tag)
            self._tail.append(["tagged", tag])

    def uses_image(self, manifest_digest: str) -> None:
        """A replay needs this image still stored."""
        self.record.images.append(manifest_digest)

    def resolved_tag(self, tag: str, manifest_digest: str) -> None:
        """A replay needs ``tag`` to still name this image."""
        self.record.tags[tag] = manifest_digest

    def save(self, records: Path, key: str | None, image_id: str,
             inputs: dict[str, list[int] | None]) -> None:
        """Keep the record under ``key`` in the folder ``records`` (or forget the old one
        when this build cannot be replayed)."""
        if key is None:
            return
        if not self.replayable:
            forget(records, key)
            return
        self.record.inputs = inputs
        self.record.image_id = image_id
        self.record.events = [*self._head,
                              *(e for i in sorted(self._stages) for e in self._stages[i]),
                              *self._tail]
        save(records, key, self.record)
