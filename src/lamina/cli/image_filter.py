"""``images --filter`` and ``images REPOSITORY[:TAG]``: which rows to list, as docker picks them.

Patterns glob as Go's path.Match does in docker's reference filter: ``*`` and
``?`` stop at ``/``, ``[...]`` is a class. A pattern matches the familiar
``repository:tag`` or the familiar repository alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import click

from lamina.oci.reference import Reference
from lamina.store.image import StoredImage

RowTest = Callable[[str, str, StoredImage], bool]


def _glob(pattern: str) -> re.Pattern[str]:
    from lamina.build.context import ContextError, go_match_regex

    try:
        return go_match_regex(pattern)
    except ContextError as exc:
        raise click.BadParameter(f"reference={pattern}: {exc}", param_hint="'--filter'") from exc


def _reference(pattern: str) -> RowTest:
    glob = _glob(pattern)
    return lambda repo, tag, _image: repo != "<none>" and bool(
        glob.fullmatch(f"{repo}:{tag}") or glob.fullmatch(repo))


def _dangling(value: str) -> RowTest:
    if value not in ("true", "false", "1", "0"):
        raise click.BadParameter(f"dangling={value}: give true or false",
                                 param_hint="'--filter'")
    want = value in ("true", "1")
    return lambda _repo, _tag, image: (not image.tags) == want


def _repository(text: str, default_registry: str) -> RowTest:
    ref = Reference.parse_loose(text, default_registry)
    name = ref.familiar_name
    return lambda repo, tag, _image: repo == name and (not ref.tag or tag == ref.tag)


def row_filter(filters: tuple[str, ...], repository: str | None,
               default_registry: str) -> RowTest:
    """One test per filter and the REPOSITORY argument; a row is listed when all pass.

    Several reference= filters are alternatives, as in docker.
    """
    tests: list[RowTest] = []
    references: list[RowTest] = []
    for text in filters:
        key, sep, value = text.partition("=")
        if not sep:
            raise click.BadParameter(f"{text!r}: give KEY=VALUE", param_hint="'--filter'")
        if key == "dangling":
            tests.append(_dangling(value))
        elif key == "reference":
            references.append(_reference(value))
        else:
            raise click.BadParameter(f"{key!r} is not a filter lamina knows"
                                     " (dangling, reference)", param_hint="'--filter'")
    if references:
        tests.append(lambda r, t, i: any(test(r, t, i) for test in references))
    if repository is not None:
        tests.append(_repository(repository, default_registry))
    return lambda repo, tag, image: all(test(repo, tag, image) for test in tests)
