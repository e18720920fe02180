"""The ``docker buildx build`` flags of ``lamina build``: secrets, entitlements, outputs, files.

`buildx_options` adds them to the command; `BuildxFlags` reads them once the
command runs; `finish` writes ``--iidfile``/``--metadata-file``, exports
``--output`` and pushes (``--push``, ``push=true``) after a successful build.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from lamina.build.builder import BuildResult
    from lamina.build.outputs import Output
    from lamina.build.remotecache import CacheSpec
    from lamina.store.store import Store

F = TypeVar("F", bound=Callable[..., Any])

_OPTIONS = [
    click.option("--secret", "secrets", multiple=True,
                 help="A secret for RUN --mount=type=secret: id=ID,src=FILE or id=ID,env=VAR."),
    click.option("--ssh", "ssh", multiple=True,
                 help="An SSH agent for RUN --mount=type=ssh: default|ID[=SOCKET|KEY[,KEY]]."),
    click.option("--allow", "allow", multiple=True,
                 type=click.Choice(["network.host", "security.insecure"]),
                 help="Allow RUN --network=host or RUN --security=insecure."),
    click.option("-o", "--output", "outputs", multiple=True,
                 help="type=image|docker|oci|tar|local[,dest=PATH][,push=true], or a DIR."),
    click.option("--push", is_flag=True, help="Push the tagged names (type=image,push=true)."),
    click.option("--load", is_flag=True,
                 help="Accepted: the image always lands in Lamina's store."),
    click.option("--iidfile", type=click.Path(path_type=Path), help="Write the image ID here."),
    click.option("--metadata-file", type=click.Path(path_type=Path),
                 help="Write the build result as JSON (containerimage.digest, ...)."),
    click.option("--add-host", "add_hosts", multiple=True, help="NAME:IP in RUN's /etc/hosts."),
    click.option("--shm-size", help="Size of RUN's /dev/shm (e.g. 128m)."),
    click.option("--ulimit", "ulimits", multiple=True, help="RUN's rlimits: nofile=1024:2048."),
    click.option("--no-cache-filter", "no_cache_filter", multiple=True,
                 help="Use no cached step in this stage."),
    click.option("--check", is_flag=True,
                 help="Only run the build checks (BuildKit's, by Lamina's lint) and exit."),
    click.option("--build-context", "build_contexts", multiple=True,
                 help="NAME=DIR|docker-image://REF|oci-layout://DIR[:TAG] for FROM/--from."),
    click.option("--cache-to", "cache_to", multiple=True,
                 help="Export the build cache: type=registry,ref=REPO:TAG[,mode=min|max] "
                      "or type=local,dest=DIR."),
    click.option("--cache-from", "cache_from", multiple=True,
                 help="Import a build cache: type=registry,ref=REPO:TAG or type=local,src=DIR."),
]


def buildx_options(func: F) -> F:
    for option in reversed(_OPTIONS):
        func = option(func)
    return func


@dataclass
class BuildxFlags:
    secrets: tuple[str, ...]
    ssh: tuple[str, ...]
    allow: tuple[str, ...]
    outputs: tuple[Output, ...]
    push: bool
    iidfile: Path | None
    metadata_file: Path | None
    add_hosts: tuple[str, ...]
    shm_size: str | None
    ulimits: tuple[str, ...]
    no_cache_filter: tuple[str, ...]
    cache_to: tuple[CacheSpec, ...]
    cache_from: tuple[CacheSpec, ...]
    build_contexts: tuple[str, ...]
    check: bool

    @classmethod
    def take(cls, kwargs: dict[str, Any]) -> BuildxFlags:
        """The flags, removed from ``kwargs`` (the command's other arguments stay)."""
        kwargs.pop("load")
        outputs, caches = kwargs.pop("outputs"), (kwargs.pop("cache_to"), kwargs.pop("cache_from"))
        if outputs:  # parsers load only when used: a replayed build stays fast
            from lamina.build.outputs import parse_output

            outputs = tuple(parse_output(o) for o in outputs)
        if any(caches):
            from lamina.build.remotecache import parse_cache

            caches = (tuple(parse_cache(c, "--cache-to") for c in caches[0]),
                      tuple(parse_cache(c, "--cache-from") for c in caches[1]))
        return cls(kwargs.pop("secrets"), kwargs.pop("ssh"), kwargs.pop("allow"), outputs,
                   kwargs.pop("push"), kwargs.pop("iidfile"), kwargs.pop("metadata_file"),
                   kwargs.pop("add_hosts"), kwargs.pop("shm_size"), kwargs.pop("ulimits"),
                   kwargs.pop("no_cache_filter"), caches[0], caches[1],
                   kwargs.pop("build_contexts"), kwargs.pop("check"))

    @property
    def always_runs(self) -> bool:
        """Builds a replay could not reproduce: secrets/agents, or with something to export."""
        return bool(self.secrets or self.ssh or self.outputs or self.push or self.iidfile
                    or self.metadata_file or self.cache_to or self.cache_from
                    or self.build_contexts)

    def names(self, tags: tuple[str, ...]) -> tuple[str, ...]:
        """-t names and those of ``type=image,name=...`` outputs."""
        return tuple(dict.fromkeys([*tags, *(n for o in self.outputs for n in o.names)]))

    def request_fields(self) -> dict[str, Any]:
        from lamina.build.namedcontexts import parse_contexts
        from lamina.build.runoptions import RunOptions
        from lamina.build.secrets import BuildSecrets

        return {"secrets": BuildSecrets.parse(self.secrets, self.ssh),
                "allow": frozenset(self.allow),
                "run_options": RunOptions.parse(self.add_hosts, self.shm_size, self.ulimits),
                "no_cache_filter": frozenset(self.no_cache_filter),
                "cache_to": self.cache_to, "cache_from": self.cache_from,
                "build_contexts": parse_contexts(self.build_contexts)}


def check_only(context: str, dockerfile: str) -> None:
    """--check: the build checks of the Dockerfile, printed; exit 1 when any warns."""
    import sys

    from lamina.build.buildchecks import CheckDirective, run_checks
    from lamina.build.context import BuildContext
    from lamina.dockerfile import parse

    ctx = BuildContext.open(context, stdin=sys.stdin.buffer, tmp_dir=None)
    try:
        text, name = ctx.read_dockerfile(dockerfile)
        ignore = ctx.matcher
    finally:
        ctx.close()
    from lamina.cli.store import open_store

    directive = CheckDirective.parse(parse(text, filename=name).directives.check)
    warnings = run_checks(text, name, CheckDirective(directive.skip, False,
                                                     directive.experimental), ignore,
                          open_store())
    for warning in warnings:
        click.echo(str(warning))
    if warnings:
        click.echo(f"Check complete, {len(warnings)} warning(s) have been found!")
        sys.exit(1)
    click.echo("Check complete, no warnings found.")


def finish(store: Store, result: BuildResult, flags: BuildxFlags) -> None:
    from lamina.build.outputs import export

    image = result.image
    if flags.iidfile is not None:
        flags.iidfile.write_text(image.image_id)
    names = [_full(t, store) for t in result.tags]
    for output in flags.outputs:
        export(store, image.manifest_digest, names, output)
    if flags.push or any(o.push for o in flags.outputs):
        if not names:
            raise click.UsageError("--push needs a name: add -t NAME[:TAG]")
        _push(store, names)
    if flags.metadata_file is not None:
        raw = store.read_blob(_digest(image.manifest_digest))
        doc = {"containerimage.config.digest": image.image_id,
               "containerimage.digest": image.manifest_digest,
               "containerimage.descriptor": {
                   "mediaType": json.loads(raw).get("mediaType", ""),
                   "digest": image.manifest_digest, "size": len(raw)},
               "image.name": ",".join(names)}
        flags.metadata_file.write_text(json.dumps(doc, indent=2) + "\n")


def _digest(text: str) -> Any:
    from lamina.oci.digest import Digest

    return Digest.parse(text)


def _full(tag: str, store: Store) -> str:
    from lamina.oci.reference import Reference

    ref = Reference.parse(tag, store.default_registry)
    return str(ref.with_tag(ref.tag or "latest"))


def _push(store: Store, names: list[str]) -> None:
    from lamina.client.push import push
    from lamina.client.session import Session
    from lamina.oci.reference import Reference

    with Session() as session:
        for name in names:
            ref = Reference.parse(name, store.default_registry)
            result = push(store, session, store.resolve(name), ref)
            click.echo(f"{ref.tag}: digest: {result.digest} size: {result.size}")
