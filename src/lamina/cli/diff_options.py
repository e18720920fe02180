"""``lamina diff``'s options, in one table read by the click command and by the fast start.

Diffing two stored images that share a base takes about a fifth of a second, half of it
importing click and the command tree. :func:`parse_plain` reads the common command lines
(known options, valid choices, two images) without click; anything else (``--help``,
``--config``, an unknown option, a bad value, ``--``, a missing image) returns None and
goes to click, which gives its usual answer or error. The table is the only statement of
the options, so the two cannot drift.
"""

from __future__ import annotations

import gc
from typing import NamedTuple

from lamina.cli.plain_options import PlainOption, parse_plain_args

FORMATS = ("table", "json")


OPTIONS = (
    PlainOption("--format", "fmt", None, choices=FORMATS, default="table"),
    PlainOption("--no-packages", "no_packages", "Skip the package inventory comparison.",
                is_flag=True),
    PlainOption("--insecure", "insecure",
                "Plain HTTP when the image has to be pulled from a registry.", is_flag=True),
)


class DiffRequest(NamedTuple):
    """What one ``lamina diff`` command line asks for."""

    image_a: str
    image_b: str
    fmt: str = "table"
    no_packages: bool = False
    insecure: bool = False


def parse_plain(args: list[str]) -> DiffRequest | None:
    """The request in ``args`` (after ``diff``), or None when click should read them."""
    parsed = parse_plain_args(args, OPTIONS)
    if parsed is None or len(parsed[1]) != 2:
        return None
    values, images = parsed
    return DiffRequest(images[0], images[1], **values)  # type: ignore[arg-type]


def run_diff(request: DiffRequest) -> None:
    """Compare the two images of ``request`` and print the differences on stdout."""
    from lamina.analyze.compare import compare_images
    from lamina.analyze.report_diff import print_diff
    from lamina.cli.activity import activity
    from lamina.cli.console import stdout_console
    from lamina.cli.store import open_store
    from lamina.client.image_source import open_image

    # The comparison makes tens of thousands of objects that all live until the end and
    # form no cycles: the cyclic collector's passes over them cost ~6% of a diff of the
    # bench images (in instructions) and free nothing. Far fewer passes, as mypy does.
    gc.set_threshold(100_000, 50, 100)
    a_name, b_name = request.image_a, request.image_b
    store = open_store()
    with activity(f"comparing {a_name} and {b_name}"), \
            open_image(a_name, store, insecure=request.insecure) as a, \
            open_image(b_name, store, insecure=request.insecure) as b:
        result = compare_images(a, b, packages=not request.no_packages)
    print_diff(result, a_name, b_name, request.fmt,
               stdout_console() if request.fmt != "json" else None)
