"""``lamina slim IMAGE -t NEW``: a minimal image from what the program really uses."""

from __future__ import annotations

import click

from lamina.cli.output import FORMAT_OPTION, print_json, warn
from lamina.cli.store import open_store
from lamina.slim.pipeline import Options, slim
from lamina.slim.probes import CmdProbe, HttpProbe, Probe
from lamina.slim.report import render


@click.command("slim")
@click.argument("image")
@click.option("-t", "--tag", required=True, help="Name for the slimmed image (NAME[:TAG]).")
@click.option("--cmd", default=None, help="Run this instead of the image's cmd (entrypoint stays).")
@click.option("--probe-cmd", "probe_cmds", multiple=True,
              help="A command run inside the container while it is traced; exit 0 passes. "
                   "Repeatable.")
@click.option("--http-probe", "http_probes", multiple=True,
              help="PORT[/path]: GET http://127.0.0.1:PORT/path until it answers (<400 passes). "
                   "Repeatable.")
@click.option("--probe-duration", type=float, default=0.0, show_default=True,
              help="Seconds to keep the program running (and traced) after the probes, to catch "
                   "late loads; verification does not wait.")
@click.option("--probe-timeout", type=float, default=30.0, show_default=True,
              help="Seconds a probe (or an --exec-wait program) may take to answer.")
@click.option("--exec-wait", is_flag=True,
              help="The program is a batch job: wait for it to exit; status 0 passes.")
@click.option("--include-path", "include_paths", multiple=True,
              help="Also keep paths matching this glob (fnmatch; a matched directory keeps its "
                   "tree). Repeatable.")
@click.option("--include-package", "include_packages", multiple=True,
              help="Also keep every file of this dpkg, apk, Python or npm package "
                   "(TYPE:NAME picks one ecosystem). Repeatable.")
@click.option("--keep-base", default=None, metavar="BASE",
              help="Share BASE's layers (the bottom of IMAGE) and put the slimmed delta on top.")
@click.option("--tracer", type=click.Choice(["auto", "fanotify", "strace"]), default="auto",
              show_default=True, help="How files are traced: fanotify (root) or strace.")
@FORMAT_OPTION
def slim_command(image: str, tag: str, cmd: str | None, probe_cmds: tuple[str, ...],
                 http_probes: tuple[str, ...], probe_duration: float, probe_timeout: float,
                 exec_wait: bool, include_paths: tuple[str, ...],
                 include_packages: tuple[str, ...], keep_base: str | None, tracer: str,
                 fmt: str) -> None:
    """Trace IMAGE under probes and build NEW from the files it used, verified by the same probes.

    \b
    Example:
      lamina slim -t app:1-slim --http-probe 8080 app:1
    """
    from lamina.client.engine_image import into_store

    store = open_store()
    image = into_store(image, store, warn)
    probes: list[Probe] = [HttpProbe.parse(p) for p in http_probes]
    probes += [CmdProbe.parse(c) for c in probe_cmds]
    options = Options(image=image, tag=tag, cmd=cmd, probes=probes, probe_timeout=probe_timeout,
                      probe_duration=probe_duration, exec_wait=exec_wait,
                      include_paths=include_paths, include_packages=include_packages,
                      keep_base=keep_base, tracer=tracer)
    report = slim(store, options, warn)
    if fmt == "json":
        print_json(report.to_dict())
    else:
        click.echo(render(report))


COMMANDS = [slim_command]
