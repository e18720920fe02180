"""``lamina db``: the local advisory database (import, status)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from lamina.cli.output import human_size, print_json, print_table, warn
from lamina.config import Settings, load_table
from lamina.scan import debian_changelog, feeds, osv, update
from lamina.scan.coverage import age_of, describe_age
from lamina.scan.database import AdvisoryDB, ImportReport, SourceState, default_path
from lamina.scan.download import Progress
from lamina.scan.errors import NoAdvisories


def db_path(db: Path | None) -> Path:
    return db if db is not None else default_path(Settings.load().home)


DB_OPTION = click.option("--db", "db", type=click.Path(path_type=Path), default=None,
                         help="Advisory database file (default: LAMINA_HOME/vulndb/advisories.sqlite).")


@click.group("db")
def db_group() -> None:
    """The local advisory database (OSV records; works offline)."""


def _report_import(result: ImportReport, fmt: str = "table") -> dict[str, object]:
    """Warnings to stderr; the counts as a line (table) or returned for one JSON document."""
    for problem in result.problems:
        warn(f"warning: {problem}")
    if fmt == "table":
        click.echo(f"{result.added} added, {result.updated} updated, {result.unchanged} unchanged,"
                   f" {result.skipped} skipped")
    return {"added": result.added, "updated": result.updated, "unchanged": result.unchanged,
            "skipped": result.skipped, "problems": result.problems}


_IMPORT_FORMAT = click.option("--format", "fmt", type=click.Choice(["table", "json"]),
                              default="table", show_default=True,
                              help="Output format: a line of counts per source, or JSON.")


def _as_of(path: Path) -> str:
    """When a file's data was last known current: its modification time (the newest file's,
    for a directory)."""
    files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
    newest = max((p.stat().st_mtime for p in files), default=path.stat().st_mtime)
    stamp = dt.datetime.fromtimestamp(newest, dt.UTC).replace(microsecond=0)
    return stamp.isoformat().replace("+00:00", "Z")


def _has_advisory(path: Path) -> bool:
    return any(item.record is not None for item in osv.read(path))


@db_group.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@_IMPORT_FORMAT
@DB_OPTION
def db_import(paths: tuple[Path, ...], fmt: str, db: Path | None) -> None:
    """Import OSV records from .json files, directories or osv.dev .zip archives.

    A path holding no usable OSV record is an error and nothing is imported.

    \b
    Example:
      lamina db import PyPI-osv.zip
    """
    # every path is checked before any is written: one bad path imports nothing
    for path in paths:
        if not _has_advisory(path):
            problems = [i.problem for i in osv.read(path) if i.problem][:1]
            raise NoAdvisories(f"{path} holds no OSV advisory record"
                               + (f" ({problems[0]})" if problems else "")
                               + "; nothing was imported")
    done = []
    with AdvisoryDB(db_path(db), create=True) as database:
        for path in paths:
            name = str(path.resolve())
            state = SourceState(name, "file", name, _as_of(path))
            counts = _report_import(
                database.import_records(osv.read(path), source=str(path), state=state), fmt)
            done.append({"source": name, **counts})
    if fmt == "json":
        print_json({"path": str(db_path(db)), "imports": done})


@db_group.command("import-debian")
@click.argument("directory", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--release", default=None, help="Ecosystem to file under (e.g. Debian:12);"
              " default: from each changelog's newest distribution.")
@_IMPORT_FORMAT
@DB_OPTION
def db_import_debian(directory: Path, release: str | None, fmt: str, db: Path | None) -> None:
    """Derive fixed-in advisories from the changelog.Debian.gz of the .deb files in DIRECTORY.

    \b
    Example:
      lamina db import-debian --release Debian:12 ./changelogs
    """
    records, problems = debian_changelog.derive(directory, release)
    for problem in problems:
        warn(f"warning: {problem}")
    name = f"debian-changelog:{directory.resolve()}"
    with AdvisoryDB(db_path(db), create=True) as database:
        result = database.import_records(
            (osv.check(r, f"{directory}:{r['id']}") for r in records),
            source=f"debian-changelog:{directory}", replace_equal=True,
            state=SourceState(name, "debian-changelog", str(directory.resolve()), _as_of(directory)))
    counts = _report_import(result, fmt)
    if fmt == "json":
        print_json({"path": str(db_path(db)), "imports": [{"source": name, **counts}]})


@db_group.command("status")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@DB_OPTION
def db_status(fmt: str, db: Path | None) -> None:
    """Advisories per ecosystem, and each source with the age of its data.

    \b
    Example:
      lamina db status --format json
    """
    path = db_path(db)
    now = dt.datetime.now(dt.UTC)
    with AdvisoryDB(path) as database:
        counts, total, withdrawn = database.status()
        sources = database.sources()
        rows = database.coverage()
    ecosystems: dict[str, list[str]] = {}
    for row in rows:
        ecosystems.setdefault(row.source.name, []).append(row.ecosystem)
    if fmt == "json":
        print_json({"path": str(path), "advisories": total, "withdrawn": withdrawn,
                    "ecosystems": [{"ecosystem": c.ecosystem, "advisories": c.advisories,
                                    "newestModified": c.newest_modified} for c in counts],
                    "sources": [_source_json(s, ecosystems.get(s.name, []), now) for s in sources]})
        return
    print_table(["ECOSYSTEM", "ADVISORIES", "NEWEST MODIFIED"],
                [[c.ecosystem, str(c.advisories), c.newest_modified] for c in counts])
    click.echo("")
    print_table(["SOURCE", "KIND", "AS OF", "AGE", "ECOSYSTEMS"],
                [[s.name, s.kind, s.as_of or "-", describe_age(age_of(s, now)),
                  _ecosystem_list(ecosystems.get(s.name, []))] for s in sources])
    click.echo(f"{total} advisories ({withdrawn} withdrawn) in {path}")


def _ecosystem_list(names: list[str]) -> str:
    return ", ".join(names) if len(names) <= 4 else ", ".join(names[:4]) + f" (+{len(names) - 4})"


def _source_json(state: SourceState, ecosystems: list[str], now: dt.datetime) -> dict[str, object]:
    age = age_of(state, now)
    return {"name": state.name, "kind": state.kind, "location": state.location,
            "asOf": state.as_of or None, "ageSeconds": None if age is None else int(age.total_seconds()),
            "etag": state.etag or None, "lastModified": state.last_modified or None,
            "size": state.size, "ecosystems": ecosystems}


def _progress(name: str) -> Progress | None:
    """Bytes so far on one rewritten line, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        return None
    last = [0]

    def show(done: int, total: int | None) -> None:
        if done - last[0] < (1 << 20) and done != total:
            return
        last[0] = done
        of = f" / {human_size(total)}" if total else ""
        click.echo(f"\r{name}: {human_size(done)}{of}\033[K", err=True, nl=done == total)

    return show


@db_group.command("update")
@click.option("--source", "only", multiple=True,
              help="Update only the named source(s) of [scan.db] sources (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@DB_OPTION
def db_update(only: tuple[str, ...], fmt: str, db: Path | None) -> None:
    """Fetch the advisory feeds and import them (OSV zips, Debian tracker, Alpine secdb).

    Conditional requests skip unchanged feeds; a failure leaves the old database
    as it was. Sources and mirrors: [scan.db] sources in lamina.toml.

    \b
    Example:
      lamina db update --source osv-PyPI
    """
    chosen = feeds.from_table(load_table("scan.db"))
    if only:
        unknown = sorted(set(only) - {f.name for f in chosen})
        if unknown:
            raise click.BadParameter(f"no source named {', '.join(unknown)} (configured:"
                                     f" {', '.join(f.name for f in chosen)})", param_hint="--source")
        chosen = [f for f in chosen if f.name in only]
    path = db_path(db)
    results = update.update(path, chosen, say=lambda line: warn(line), progress_for=_progress)
    if fmt == "json":
        print_json({"path": str(path), "sources": [
            {"name": r.feed.name, "kind": r.feed.kind, "url": r.url, "modified": r.modified,
             "added": r.report.added if r.report else 0,
             "updated": r.report.updated if r.report else 0,
             "unchanged": r.report.unchanged if r.report else 0,
             "skipped": r.report.skipped if r.report else 0} for r in results]})
        return
    print_table(["SOURCE", "RESULT"], [
        [r.feed.name, "not modified" if not r.modified or r.report is None else
         f"{r.report.added} added, {r.report.updated} updated, {r.report.unchanged} unchanged"]
        for r in results])


COMMANDS = [db_group]
