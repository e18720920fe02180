"""``lamina build``: a Dockerfile into an image."""

from __future__ import annotations

import os
import re
import sys
from typing import IO, TYPE_CHECKING, Any

import click

from lamina.cli.buildx import BuildxFlags, buildx_options, check_only, finish
from lamina.cli.output import print_json
from lamina.errors import LaminaError

if TYPE_CHECKING:
    from lamina.build.builder import BuildResult
    from lamina.build.progress import Progress
    from lamina.build.stepcontext import BuildRequest
    from lamina.store.store import Store

PULL = click.Choice(["missing", "always", "never"])
PROGRESS = ("auto", "classic", "plain", "tty", "rawjson", "quiet", "none")


def _pairs(values: tuple[str, ...], what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        key, sep, val = value.partition("=")
        if not key:
            raise click.BadParameter(f"{value!r}: expected KEY=VALUE", param_hint=what)
        if not sep:
            env = os.environ.get(key)
            if env is None:
                continue  # docker: --build-arg NAME takes NAME from the environment, if set
            val = env
        out[key] = val
    return out


_ARG_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _check_request(tags: tuple[str, ...], platform: str | None,
                   build_args: tuple[str, ...]) -> None:
    """Refuse bad arguments before any step runs, as docker does (usage errors, exit 2)."""
    from lamina.oci.reference import Reference

    for tag in tags:
        try:
            ref = Reference.parse(tag)
        except LaminaError as exc:
            raise click.BadParameter(str(exc), param_hint="'-t'") from exc
        if ref.digest is not None:
            raise click.BadParameter(f"{tag!r}: a build names its image with a tag, not a"
                                     " digest", param_hint="'-t'")
    if platform:
        from lamina.build.platforms import parse_platforms, why_not

        try:  # containerd's rule: an OS alone means the host's architecture
            wanted = parse_platforms(platform)
        except LaminaError as exc:
            raise click.BadParameter(str(exc), param_hint="'--platform'") from exc
        for one in wanted:
            reason = why_not(one)
            if reason is not None:
                raise click.BadParameter(f"{one} cannot be built here: {reason}",
                                         param_hint="'--platform'")
    for value in build_args:
        key = value.partition("=")[0]
        if not _ARG_NAME.fullmatch(key):
            raise click.BadParameter(f"{value!r}: expected NAME=VALUE with NAME a letter or _"
                                     " then letters, digits or _", param_hint="'--build-arg'")


@click.command("build")
@click.argument("context")
@click.option("-t", "--tag", "tags", multiple=True, help="Name the image NAME[:TAG].")
@click.option("-f", "--file", "dockerfile", default="Dockerfile", help="The Dockerfile.")
@click.option("--build-arg", "build_args", multiple=True, help="Set an ARG: KEY=VALUE.")
@click.option("--target", help="Build up to this stage.")
@click.option("--no-cache", is_flag=True, help="Run every step; use no cached result.")
@click.option("--pull", type=PULL, default="missing", show_default=True,
              help="When to fetch FROM images from their registry.")
@click.option("--network", type=click.Choice(["host", "none"]), default="host",
              show_default=True, help="Network of RUN steps.")
@click.option("--label", "labels", multiple=True, help="Add a label: KEY=VALUE.")
@click.option("--platform", help="Target platform (only the host's is supported).")
@click.option("-q", "--quiet", is_flag=True, help="Print only the image ID.")
@click.option("--progress", type=click.Choice(PROGRESS), envvar="BUILDKIT_PROGRESS",
              show_envvar=True, help="As docker buildx build, on stderr: plain|tty: BuildKit's "
              "#N lines with timings and CACHED; rawjson: BuildKit's SolveStatus JSON lines; "
              "auto (default): tty on a terminal, else plain; quiet: as -q; none: nothing "
              "but errors. classic: docker's classic Step N/M lines on stdout (the default "
              "when DOCKER_BUILDKIT=0).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="json: the steps' output on stderr and a JSON result"
              " (id, manifestDigest, tags, steps, cacheHits) on stdout.")
@click.option("--reproducible", is_flag=True,
              help="Bit-identical output: clamp times to SOURCE_DATE_EPOCH (0 when unset).")
@buildx_options
def build_command(context: str, tags: tuple[str, ...], dockerfile: str,
                  build_args: tuple[str, ...], target: str | None, no_cache: bool, pull: str,
                  network: str, labels: tuple[str, ...], platform: str | None, quiet: bool,
                  progress: str | None, fmt: str, reproducible: bool, **buildx: Any) -> None:
    """Build an image from a Dockerfile and CONTEXT (a directory, a tar, or - for stdin).

    \b
    Example:
      lamina build -t app:1 --build-arg VERSION=1.2 .
      lamina build --secret id=npmrc,src=$HOME/.npmrc -o type=oci,dest=app.tar .
    """
    flags = BuildxFlags.take(buildx)
    if flags.check:
        check_only(context, dockerfile)
        return
    tags = flags.names(tags)
    _check_request(tags, platform, build_args)
    epoch_text = os.environ.get("SOURCE_DATE_EPOCH")
    epoch: int | None = None
    if epoch_text:
        if not epoch_text.isdigit():
            raise LaminaError(f"SOURCE_DATE_EPOCH={epoch_text!r} is not a number of seconds")
        epoch = int(epoch_text)
    elif reproducible:
        epoch = 0
    args, label_pairs = _pairs(build_args, "--build-arg"), _pairs(labels, "--label")
    progress = _progress_kind(progress)
    show_id = quiet or progress == "quiet"  # buildx: quiet prints the ID, none nothing
    quiet = quiet or progress in ("quiet", "none")
    # docker buildx build writes its progress to stderr; the classic builder wrote to stdout.
    stream = sys.stdout.buffer if fmt == "text" and progress == "classic" else sys.stderr.buffer
    out = _progress(progress, stream, quiet)
    replay_key = None
    if (os.path.isdir(context) and not no_cache and pull != "always" and fmt == "text"
            and not flags.always_runs):
        from lamina.build.replay import replay, request_key
        from lamina.config import Settings

        replay_key = request_key({
            "v": 2, "cwd": os.getcwd(), "context": os.path.realpath(context),
            "dockerfile": dockerfile, "tags": tags, "build_args": args, "target": target,
            "pull": pull, "network": network, "labels": label_pairs, "platform": platform,
            "epoch": epoch, "reproducible": reproducible, "allow": sorted(flags.allow),
            "run_options": [flags.add_hosts, flags.shm_size, flags.ulimits],
            "no_cache_filter": sorted(flags.no_cache_filter)})
        image_id = replay(Settings.load().home, replay_key, None if quiet else out)
        if image_id is not None:  # nothing the build depends on changed: its result stands
            if show_id:
                click.echo(image_id)
            return
    fields = flags.request_fields()  # a missing secret file stops the build before any step
    if args.get("BUILDKIT_INLINE_CACHE", "").lower() in ("1", "true"):
        from lamina.build.remotecache import CacheSpec  # docker build's way to ask for it

        fields["cache_to"] = (*fields["cache_to"], CacheSpec("inline"))
    from lamina.build.builder import Builder
    from lamina.build.context import BuildContext
    from lamina.build.stepcontext import BuildRequest
    from lamina.cli.store import open_store

    store = open_store()
    ctx = BuildContext.open(context, stdin=sys.stdin.buffer, tmp_dir=None)
    request = BuildRequest(ctx, dockerfile, tags, args, target, no_cache, pull, network,
                           label_pairs, platform, epoch, reproducible or epoch is not None,
                           replay_key=replay_key, **fields)
    builder = Builder(store, request, out, lambda m: click.echo(m, err=True))
    try:
        if platform and "," in platform:
            result = _several(store, request, platform, flags, out)
        else:
            result = builder.build()
    except LaminaError:
        failed = out.failed_output() + builder.failed_output
        if failed:
            stream.write(failed)
            stream.flush()
        raise
    finally:
        ctx.close()
    out.finish()
    finish(store, result, flags)
    if fmt == "json":
        print_json({"id": result.image.image_id, "manifestDigest": result.image.manifest_digest,
                    "tags": list(result.tags), "steps": result.steps,
                    "cacheHits": result.cache_hits})
    elif show_id:
        click.echo(result.image.image_id)


def _progress_kind(asked: str | None) -> str:
    """What ``--progress`` (or BUILDKIT_PROGRESS) asks for, ``auto`` resolved as buildx does."""
    if asked is None:
        asked = "classic" if os.environ.get("DOCKER_BUILDKIT") == "0" else "auto"
    if asked == "auto":
        return "tty" if sys.stderr.isatty() else "plain"
    return asked


def _progress(kind: str, stream: IO[bytes], quiet: bool) -> Progress:
    """The progress output ``--progress`` names."""
    from lamina.build.progress import Progress

    if kind in ("plain", "tty", "rawjson", "quiet", "none"):
        from lamina.build.plainprogress import PlainProgress, RawJsonProgress

        return (RawJsonProgress if kind == "rawjson" else PlainProgress)(stream, quiet=quiet)
    return Progress(stream, quiet=quiet)


def _several(store: Store, request: BuildRequest, platform: str, flags: BuildxFlags,
             out: Progress) -> BuildResult:
    """--platform A,B: each platform's image, joined in an OCI index under the tags."""
    from lamina.build.multiplatform import build_platforms
    from lamina.build.platforms import parse_platforms

    if any(o.type in ("local", "tar") for o in flags.outputs):
        raise LaminaError("--output type=local|tar takes one platform; for several, use "
                          "type=oci or type=image")
    return build_platforms(store, request, parse_platforms(platform), out,
                           lambda m: click.echo(m, err=True))


COMMANDS = [build_command]
