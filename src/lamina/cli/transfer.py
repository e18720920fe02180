"""``pull``, ``push``, ``copy``, ``login``, ``logout``: moving images to and from registries.

The client (httpx, rich) is imported inside each command, so other commands
do not pay for it at start-up.

``--format json`` (stdout; progress becomes JSON lines {"id", "status", "total"?}
on stderr):
- pull: {"reference", "digest" (what the registry's tag names), "id" (image ID),
  "downloaded" (layers fetched), "reused" (layers already stored), "updated"}
- push: {"reference", "digest", "size" (manifest bytes), "pushed", "skipped",
  "mounted"} (blob counts, config included)
- copy: {"source", "destination", "digest", "copied", "skipped", "mounted"}
"""

from __future__ import annotations

import sys

import click

from lamina.cli.output import print_json, warn
from lamina.cli.store import open_store
from lamina.errors import LaminaError
from lamina.oci.descriptor import Platform
from lamina.oci.reference import Reference, latest_warning

QUIET = click.option("-q", "--quiet", is_flag=True, help="Suppress the progress output.")
INSECURE = click.option("--insecure", is_flag=True,
                        help="Use plain HTTP (loopback registries always do).")
FORMAT = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                      show_default=True, help="json: progress as JSON lines on stderr and a"
                      " JSON result on stdout, for scripts.")


def _parse(text: str, default_registry: str) -> Reference:
    ref = Reference.parse(text, default_registry)
    message = latest_warning(ref) if Reference.parse_loose(text, default_registry).tag == "" \
        and ref.digest is None else None
    if message:
        warn(message)
    return ref


def _platform(text: str | None) -> Platform | None:
    if text is None:
        return None
    try:
        return Platform.parse(text)
    except ValueError as exc:
        raise LaminaError(str(exc)) from exc


@click.command("pull")
@click.argument("name")
@click.option("--platform", help="os/arch[/variant] to pick from a multi-platform image.")
@click.option("--all-platforms", is_flag=True,
              help="Pull every platform of an index (as ctr pull --all-platforms).")
@QUIET
@INSECURE
@FORMAT
def pull_command(name: str, platform: str | None, all_platforms: bool, quiet: bool,
                 insecure: bool, fmt: str) -> None:
    """Download an image from a registry (always asks the registry, like docker pull).

    \b
    Example:
      lamina pull --platform linux/arm64 127.0.0.1:5000/team/app:1
    """
    from lamina.client.progress import reporter
    from lamina.client.pull import pull
    from lamina.client.session import Session

    store = open_store()
    ref = _parse(name, store.default_registry)
    if not quiet and fmt == "text":
        click.echo(f"{ref.tag or ref.digest}: Pulling from {ref.repository}", err=True)
    progress = reporter(quiet, fmt)
    try:
        with Session(insecure=insecure) as session:
            result = pull(store, session, ref, platform=_platform(platform),
                          all_platforms=all_platforms, progress=progress)
    finally:
        progress.close()
    if fmt == "json":
        print_json({"reference": str(ref), "digest": str(result.digest),
                    "id": str(result.image.id), "downloaded": result.downloaded,
                    "reused": result.reused, "updated": result.changed})
        return
    if quiet:
        click.echo(str(ref))
        return
    click.echo(f"{result.reused} layers reused, {result.downloaded} downloaded", err=True)
    click.echo(f"Digest: {result.digest}")
    if result.changed:
        click.echo(f"Status: Downloaded newer image for {ref.familiar()}")
    else:
        click.echo(f"Status: Image is up to date for {ref.familiar()}")
    click.echo(str(ref))


@click.command("push")
@click.argument("name")
@QUIET
@INSECURE
@FORMAT
def push_command(name: str, quiet: bool, insecure: bool, fmt: str) -> None:
    """Upload an image from the local store; blobs the registry has are skipped or mounted.

    \b
    Example:
      lamina push 127.0.0.1:5000/team/app:1
    """
    from lamina.client.progress import reporter
    from lamina.client.push import push
    from lamina.client.session import Session

    store = open_store()
    ref = _parse(name, store.default_registry)
    image = store.resolve(str(ref))
    if not quiet and fmt == "text":
        click.echo(f"The push refers to repository [{ref.name}]", err=True)
    progress = reporter(quiet, fmt)
    try:
        with Session(insecure=insecure) as session:
            result = push(store, session, image, ref, progress=progress)
    finally:
        progress.close()
    if fmt == "json":
        print_json({"reference": str(ref), "digest": str(result.digest), "size": result.size,
                    "pushed": result.pushed, "skipped": result.skipped,
                    "mounted": result.mounted})
        return
    click.echo(f"{ref.tag or ref.digest}: digest: {result.digest} size: {result.size}")


@click.command("copy")
@click.argument("source")
@click.argument("destination")
@click.option("-a", "--all", "all_platforms", is_flag=True,
              help="Copy the whole index (every platform), not one platform's image.")
@click.option("--platform", help="os/arch[/variant] to copy from a multi-platform image.")
@QUIET
@INSECURE
@FORMAT
def copy_command(source: str, destination: str, all_platforms: bool, platform: str | None,
                 quiet: bool, insecure: bool, fmt: str) -> None:
    """Copy an image: [docker://]REF, oci:PATH[:TAG] or docker-archive:PATH[:REF] on each side.

    A source may also be docker-daemon:NAME[:TAG] (the Docker engine) or
    podman:NAME (Podman's storage); Lamina does not write into them.

    \b
    Example:
      lamina copy 127.0.0.1:5000/team/app:1 oci:./app-layout:1
    """
    from lamina.client.copy import copy, parse_location
    from lamina.client.progress import reporter
    from lamina.client.session import Session
    from lamina.client.settings import ClientSettings

    settings = ClientSettings.load()
    locations = []
    for text in (source, destination):
        location = parse_location(text, settings.default_registry)
        if location.kind == "registry":
            _parse(text.removeprefix("docker://"), settings.default_registry)
        locations.append(location)
    src, dst = locations
    store = open_store()
    progress = reporter(quiet, fmt)
    try:
        with Session(settings, insecure=insecure) as session:
            result = copy(store, session, src, dst, all_platforms=all_platforms,
                          platform=_platform(platform), progress=progress)
    finally:
        progress.close()
    if fmt == "json":
        print_json({"source": str(src), "destination": str(dst), "digest": str(result.digest),
                    "copied": result.copied, "skipped": result.skipped,
                    "mounted": result.mounted})
        return
    if not quiet:
        click.echo(f"Copied {src} to {dst}", err=True)
    click.echo(f"Digest: {result.digest}")


def _registry_arg(registry: str | None, default_registry: str) -> str:
    if registry is None:
        return default_registry
    host = registry.split("://", 1)[-1].split("/", 1)[0]
    if not host:
        raise LaminaError(f"invalid registry {registry!r}: expected host[:port]")
    return host


@click.command("login")
@click.argument("registry", required=False)
@click.option("-u", "--username", help="User name.")
@click.option("-p", "--password", help="Password (prefer --password-stdin: argv is visible).")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@INSECURE
def login_command(registry: str | None, username: str | None, password: str | None,
                  password_stdin: bool, insecure: bool) -> None:
    """Check credentials against a registry's /v2/ and save them like docker login.

    \b
    Example:
      echo "$TOKEN" | lamina login -u alice --password-stdin 127.0.0.1:5000
    """
    from lamina.client.credentials import Credential, DockerConfig
    from lamina.client.errors import AuthError
    from lamina.client.settings import ClientSettings
    from lamina.client.transport import RegistryClient, is_insecure

    settings = ClientSettings.load()
    host = _registry_arg(registry, settings.default_registry)
    if password_stdin:
        if password is not None:
            raise click.UsageError("--password and --password-stdin are mutually exclusive")
        if username is None:
            raise click.UsageError("--password-stdin needs --username")
        password = sys.stdin.read().rstrip("\r\n")
    elif password is not None:
        warn("WARNING! Using --password via the CLI is insecure. Use --password-stdin.")
    if (username is None or password is None) and not sys.stdin.isatty():
        # click.prompt would read a pipe, and getpass would warn about echoing.
        raise click.UsageError("login needs a terminal to ask for credentials; without one,"
                               " give --username and --password-stdin")
    if username is None:
        username = click.prompt("Username")
    if password is None:
        password = click.prompt("Password", hide_input=True)
    if not username or not password:
        raise LaminaError("login needs a non-empty username and password")
    credential = Credential(username, password)
    plain = insecure or is_insecure(host, settings.insecure_registries)
    with RegistryClient(host, credential=credential, insecure=plain) as client:
        try:
            client.ping()
        except AuthError as exc:
            raise AuthError(f"login to {host} failed: {exc}") from exc
    config = DockerConfig()
    config.store(host, credential)
    click.echo("Login Succeeded")


@click.command("logout")
@click.argument("registry", required=False)
def logout_command(registry: str | None) -> None:
    """Forget the saved credentials of a registry.

    \b
    Example:
      lamina logout 127.0.0.1:5000
    """
    from lamina.client.credentials import DockerConfig
    from lamina.client.settings import ClientSettings

    host = _registry_arg(registry, ClientSettings.load().default_registry)
    if DockerConfig().erase(host):
        click.echo(f"Removing login credentials for {host}")
    else:
        click.echo(f"Not logged in to {host}")


COMMANDS = [pull_command, push_command, copy_command, login_command, logout_command]
