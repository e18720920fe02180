"""``lamina run`` and the containers it leaves running: ``ps``, ``logs``, ``stop``, ``rm``.

The flags are docker run's (-i, -t, -d, -p, -w, -u, -e, -v, --mount, --entrypoint,
--read-only, --init, --name, --network). The runtime and the builder are imported
only when a container starts, so `lamina ps` stays cheap.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, cast

import click

from lamina.cli.output import print_json, print_table
from lamina.cli.store import open_store
from lamina.cli.timefmt import human_duration
from lamina.errors import LaminaError, NotFound

if TYPE_CHECKING:
    from lamina.containers.options import RunOptions
    from lamina.containers.records import Record
    from lamina.store.image import StoredImage
    from lamina.store.store import Store

PULL = click.Choice(["missing", "always", "never"])
NETWORKS = click.Choice(["private", "host", "none"])


def _warn_latest(text: str, stored: StoredImage, default_registry: str) -> None:
    """The README's :latest warning, naming the image this run actually uses."""
    from lamina.oci.reference import Reference, latest_warning

    try:
        ref = Reference.parse(text, default_registry)
    except LaminaError:
        return  # an image ID
    message = latest_warning(ref)
    if message is None or str(ref) not in stored.tags:
        return  # pinned, or found by ID prefix
    click.echo(f"{message} This run uses image {stored.id.short} ({stored.top_digest}).",
               err=True)


def _image(store: Store, image: str, pull: str) -> StoredImage:
    from lamina.client.resolve import PullPolicy, ensure_image

    try:
        stored = ensure_image(store, image, cast(PullPolicy, pull))
    except LaminaError as exc:
        raise NotFound(f"image {image} not found (looked in the local store at {store.location}, "
                       f"--pull={pull}: {exc}); add it with `lamina load -i IMAGE.tar` or "
                       "`lamina pull`") from exc
    _warn_latest(image, stored, store.default_registry)
    return stored


def _options(command: tuple[str, ...], entrypoint: str | None, env: tuple[str, ...],
             workdir: str | None, user: str | None, volumes: tuple[str, ...],
             mounts: tuple[str, ...], read_only: bool, init: bool, network: str,
             publish: tuple[str, ...], tty: bool, interactive: bool, name: str) -> RunOptions:
    from lamina.containers.options import RunOptions, parse_mount
    from lamina.runtime import BindMount
    from lamina.runtime.ports import PortMapping

    try:
        options = RunOptions(
            command=command, entrypoint=entrypoint, env=env, workdir=workdir, user=user,
            binds=[*(BindMount.parse(v) for v in volumes), *(parse_mount(m) for m in mounts)],
            read_only=read_only, init=init, network=network,  # type: ignore[arg-type]
            ports=[PortMapping.parse(p) for p in publish], tty=tty, interactive=interactive,
            name=name)
        options.check()
    except LaminaError as exc:
        raise click.UsageError(str(exc)) from exc
    return options


# As docker run: every word after IMAGE belongs to the container's command, flags included.
@click.command("run", context_settings={"ignore_unknown_options": True,
                                        "allow_interspersed_args": False})
@click.argument("image")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.option("-d", "--detach", is_flag=True,
              help="Run in the background; print the container ID (see ps, logs, stop, rm).")
@click.option("-i", "--interactive", is_flag=True, help="Keep stdin open and pass it in.")
@click.option("-t", "--tty", is_flag=True, help="Give the container a pseudo-terminal.")
@click.option("--name", default="", help="Name the container (for ps, logs, stop, rm).")
@click.option("--rm", is_flag=True, help="Remove the container when it ends (always done"
              " in the foreground; with -d, its record and logs go when it exits).")
@click.option("-e", "--env", "env", multiple=True, help="Set KEY=VALUE in the environment.")
@click.option("-w", "--workdir", help="Working directory inside the container (made if missing).")
@click.option("-u", "--user", help="USER[:GROUP] or UID[:GID] to run as.")
@click.option("--entrypoint", help="Replace the image's Entrypoint ('' clears it).")
@click.option("-v", "--volume", "volumes", multiple=True,
              help="Bind-mount HOST:CONTAINER[:ro|rw] (a missing host directory is made).")
@click.option("--mount", "mounts", multiple=True,
              help="type=bind,source=HOST,target=CONTAINER[,readonly] (source must exist).")
@click.option("--read-only", is_flag=True, help="Mount the root filesystem read-only.")
@click.option("--init", is_flag=True, help="Run tini as PID 1 to reap zombies and pass signals.")
@click.option("-p", "--publish", multiple=True, metavar="[IP:]HOST:CONTAINER[/PROTO]",
              help="Publish a container port on the host (own network only).")
@click.option("--network", type=NETWORKS, default="private", show_default=True,
              help="private: own namespace, outbound access and -p (slirp4netns);"
              " host: the host's; none: loopback only.")
@click.option("--pull", type=PULL, default="missing", show_default=True)
def run_command(image: str, command: tuple[str, ...], detach: bool, interactive: bool,
                tty: bool, name: str, rm: bool, env: tuple[str, ...], workdir: str | None,
                user: str | None, entrypoint: str | None, volumes: tuple[str, ...],
                mounts: tuple[str, ...], read_only: bool, init: bool, publish: tuple[str, ...],
                network: str, pull: str) -> None:
    """Run IMAGE's command (or COMMAND) in a container; its output and exit code pass through.

    \b
    Example:
      lamina run -d --name web -p 127.0.0.1:8080:80 busybox:1.36 httpd -f -p 80
    """
    if detach and (interactive or tty):
        raise click.UsageError("-d runs in the background: it cannot take -i or -t")
    options = _options(command, entrypoint, env, workdir, user, volumes, mounts, read_only,
                       init, network, publish, tty, interactive, name)
    store = open_store()
    stored = _image(store, image, pull)
    from lamina.containers.records import Records
    from lamina.runtime import new_container_id

    records = Records.of(store)
    doc = {"image": image, "imageId": str(stored.id), "manifest": str(stored.manifest_digest),
           "options": options.to_doc(), "detached": detach, "autoRemove": rm}
    record = records.create(new_container_id(), name, doc)
    if detach:
        from lamina.containers.detached import start_detached

        start_detached(store.location, record)
        click.echo(record.id)
        return
    sys.exit(_foreground(store, record, options))


def _foreground(store: Store, record: Record, options: RunOptions) -> int:
    from lamina.build.image import ImageState
    from lamina.containers.launch import run_container
    from lamina.containers.records import Records

    # A foreground container is always removed, as with docker run --rm.
    stdin: object = None
    if options.interactive:  # as docker: -t alone gives a terminal with no input
        stdin = sys.stdin.buffer
        if not _has_fd(stdin):
            stdin = sys.stdin.buffer.read()  # an in-memory stdin (tests, embedding)
    sys.stdout.flush()
    try:
        state = ImageState.load(store, record.doc["manifest"])
        return run_container(store, state, options, stdin=stdin,  # type: ignore[arg-type]
                             stdout=sys.stdout.buffer, stderr=sys.stderr.buffer,
                             container_id=record.id)
    finally:
        Records.remove(record)


def _has_fd(stream: object) -> bool:
    try:
        stream.fileno()  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return False
    return True


def status_text(record: Record, now: float) -> str:
    """docker ps's STATUS column: "Up 3 seconds", "Exited (0) 2 minutes ago"."""
    code = record.exit_code
    if code is not None:
        return f"Exited ({code}) {human_duration(now - (record.finished or now))} ago"
    if record.running:
        return f"Up {human_duration(now - float(record.doc['created']))}"
    return "Dead"


@click.command("ps")
@click.option("-a", "--all", "show_all", is_flag=True, help="Show ended containers too.")
@click.option("-q", "--quiet", is_flag=True, help="Only print container IDs.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="A table for people or JSON for scripts.")
def ps_command(show_all: bool, quiet: bool, fmt: str) -> None:
    """List containers: running ones, or all with -a.

    \b
    Example:
      lamina ps -a
    """
    from lamina.containers.records import Records

    records = [r for r in Records.of(open_store()).all() if show_all or r.running]
    now = time.time()
    if quiet:
        for record in records:
            click.echo(record.id[:12])
        return
    if fmt == "json":
        print_json([{"ID": r.id, "Names": r.name, "Image": r.doc["image"],
                     "ImageID": r.doc["imageId"], "Command": r.doc["options"]["command"],
                     "Created": r.doc["created"], "Running": r.running,
                     "ExitCode": r.exit_code, "Status": status_text(r, now),
                     "Ports": _ports(r)} for r in records])
        return
    print_table(["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"], [
        [r.id[:12], r.doc["image"], _command(r),
         f"{human_duration(now - float(r.doc['created']))} ago", status_text(r, now),
         ", ".join(_ports(r)), r.name] for r in records])


def _ports(record: Record) -> list[str]:
    return [f"{ip}:{host}->{port}/{proto}" for ip, host, port, proto
            in record.doc["options"]["ports"]]


def _command(record: Record) -> str:
    text = " ".join(record.doc["options"]["command"]) or "(image default)"
    return '"' + (text if len(text) <= 20 else text[:19] + "…") + '"'


@click.command("logs")
@click.argument("container")
@click.option("-f", "--follow", is_flag=True, help="Keep printing output until it ends.")
def logs_command(container: str, follow: bool) -> None:
    """Print a detached container's output: its stdout to stdout, its stderr to stderr.

    \b
    Example:
      lamina logs -f web
    """
    from lamina.containers.detached import follow_logs
    from lamina.containers.records import Records

    record = Records.of(open_store()).find(container)
    follow_logs(record, sys.stdout.buffer, sys.stderr.buffer, follow=follow)


@click.command("stop")
@click.argument("containers", nargs=-1, required=True)
@click.option("-t", "--time", "timeout", type=click.IntRange(0), default=10, show_default=True,
              help="Seconds to wait after SIGTERM before SIGKILL.")
def stop_command(containers: tuple[str, ...], timeout: int) -> None:
    """Stop running containers: SIGTERM, then SIGKILL after --time seconds.

    \b
    Example:
      lamina stop web
    """
    from lamina.containers.detached import stop
    from lamina.containers.records import Records

    records = Records.of(open_store())
    for text in containers:
        stop(records.find(text), timeout)
        click.echo(text)


@click.command("rm")
@click.argument("containers", nargs=-1, required=True)
@click.option("-f", "--force", is_flag=True, help="Kill a running container first.")
def rm_command(containers: tuple[str, ...], force: bool) -> None:
    """Remove containers, with their logs (a running one needs -f).

    \b
    Example:
      lamina rm -f web
    """
    from lamina.containers.detached import stop
    from lamina.containers.records import ContainerConflict, Records

    records = Records.of(open_store())
    for text in containers:
        record = records.find(text)
        if record.running:
            if not force:
                raise ContainerConflict(f"container {text} is running: stop it first"
                                        f" (lamina stop {text}) or use rm -f")
            stop(record, 0)
        records.remove(record)
        click.echo(text)


COMMANDS = [run_command, ps_command, logs_command, stop_command, rm_command]
