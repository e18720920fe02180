"""``lamina sbom`` and ``lamina scan``: inventory and matching (``lamina db`` is in cli/db.py)."""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
from pathlib import Path

import click
import httpx

from lamina.cli import scan_secrets
from lamina.cli.db import DB_OPTION, db_path
from lamina.cli.output import print_json, print_table, warn
from lamina.cli.store import open_store
from lamina.client.image_source import OpenedImage, open_image
from lamina.config import Settings
from lamina.errors import LaminaError
from lamina.layers.layerindex import LayerIndex
from lamina.oci import mediatype
from lamina.oci.reference import Reference
from lamina.scan import coverage, cyclonedx, ignorefile, report, spdx
from lamina.scan.database import AdvisoryDB
from lamina.scan.inventory import Inventory, inventory_of
from lamina.scan.matching import Finding, ScanResult, match
from lamina.scan.secrets import SecretFinding
from lamina.scan.settings import ScanSettings
from lamina.scan.severity import LEVELS


def _name(src: OpenedImage) -> str:
    """A file is named by the image's tag inside it, as the scan reports always did."""
    return src.image.tags[0] if src.origin == "archive" and src.image.tags else src.name


def _inventory_of(src: OpenedImage) -> Inventory:
    """The packages of ``src`` wherever it lies (a file is read in place): the databases are
    found in the layer listings and only their members read.

    A layer that cannot be listed at all (cut short, not a tar, not its diff ID) makes the
    image unreadable: an error, as loading it would be, not a warning beside a partial list.
    """
    unreadable: list[LaminaError] = []

    def listing(index: int) -> LayerIndex:
        try:
            return src.layer_listing(index)
        except LaminaError as exc:
            unreadable.append(exc)
            raise

    layers = [layer.descriptor for layer in src.image.layers]
    inv = inventory_of(src.image.config, layers, src.open_blob, name=_name(src),
                       index_of=listing, read_members=src.read_members)
    if unreadable:
        raise unreadable[0]
    return inv


def _inventory(image: str) -> Inventory:
    with open_image(image, open_store()) as src:
        inv = _inventory_of(src)
    for problem in inv.problems:
        warn(f"warning: {problem}")
    return inv


_SCANNERS = ("vuln", "secret")


def _scanners(text: str) -> set[str]:
    chosen = {part.strip() for part in text.split(",") if part.strip()}
    unknown = chosen - set(_SCANNERS)
    if unknown or not chosen:
        raise click.BadParameter(f"unknown scanner {', '.join(sorted(unknown)) or '(none)'};"
                                 f" use {','.join(_SCANNERS)}", param_hint="--scanners")
    return chosen


def _look(image: str, database: AdvisoryDB | None,
          secrets: bool) -> tuple[ScanResult, list[SecretFinding] | None]:
    """The image opened once: its inventory matched, and its layers searched for secrets."""
    with open_image(image, open_store()) as src:
        inv = _inventory_of(src)
        found, problems = scan_secrets.find(src) if secrets else (None, [])
    for problem in inv.problems + problems:
        warn(f"warning: {problem}")
    return (match(inv, database) if database is not None else ScanResult(inv, [])), found


def _print_secrets(inv: Inventory, secrets: list[SecretFinding]) -> None:
    print_table(["SECRET", "SEVERITY", "PATH", "LAYER", "MATCH"],
                [[s.title + ("" if s.in_final_image else " (deleted later, still shipped)"),
                  s.severity, f"{s.path}:{s.line}" if s.line else s.path,
                  _layer_cell(inv, s.layer), s.match] for s in secrets])
    click.echo(f"{len(secrets)} secrets\n")


def _layer_cell(inv: Inventory, index: int) -> str:
    if index < 0 or index >= len(inv.layers):
        return "?"
    step = inv.layers[index].created_by
    step = step if len(step) <= 50 else step[:47] + "..."
    return f"{index}: {step}" if step else str(index)


@click.command("sbom")
@click.argument("image")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "cyclonedx", "spdx"]),
              default="table", show_default=True, help="Output format.")
def sbom_command(image: str, fmt: str) -> None:
    """List the packages installed in IMAGE (a name, an ID, a docker-archive tar or OCI layout).

    \b
    Example:
      lamina sbom --format cyclonedx app:1 > app.cdx.json
    """
    inv = _inventory(image)
    if fmt == "json":
        print_json(report.inventory_json(inv))
    elif fmt == "cyclonedx":
        print_json(cyclonedx.sbom(inv))
    elif fmt == "spdx":
        print_json(spdx.document(inv))
    else:
        if inv.os is not None:
            warn(f"OS: {inv.os.pretty_name or inv.os.distro}")
        print_table(["TYPE", "NAME", "VERSION", "LAYER"],
                    [[p.type, p.name, p.version, _layer_cell(inv, p.layer)] for p in inv.packages])


def _levels(text: str) -> set[str]:
    levels = {part.strip().upper() for part in text.split(",") if part.strip()}
    unknown = levels - set(LEVELS)
    if unknown:
        raise click.BadParameter(f"unknown severity {', '.join(sorted(unknown))};"
                                 f" use {','.join(LEVELS)}", param_hint="--severity")
    return levels


def _print_coverage(covered: list[coverage.Coverage]) -> None:
    """Per ecosystem: the sources that covered it and their age, or that none did."""
    now = dt.datetime.now(dt.UTC)
    rows = []
    for cov in covered:
        sources = ", ".join(f"{s.source.name} ({coverage.describe_age(s.age(now))} old)"
                            for s in cov.sources) or "NONE: not checked"
        rows.append([cov.ecosystem, str(cov.packages), sources])
    if rows:
        print_table(["ECOSYSTEM", "PACKAGES", "ADVISORY SOURCES"], rows)
        click.echo("")


def _print_findings(inv: Inventory, findings: list[Finding],
                    uncovered: list[coverage.Coverage]) -> None:
    if inv.os is not None:
        warn(f"OS: {inv.os.pretty_name or inv.os.distro}")
    groups: dict[tuple[str, str, str, str], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.package.type, f.package.name, f.installed, f.package.path), []).append(f)
    for (kind, name, installed, path), items in groups.items():
        click.echo(f"{name} {installed} ({kind}, {path}, layer {_layer_cell(inv, items[0].package.layer)})")
        print_table(["  ID", "SEVERITY", "FIXED IN", "SUMMARY"],
                    [[f"  {f.id}", f.severity.level, ", ".join(f.fixed) or "(no fix)",
                      f.summary[:60]] for f in items])
        click.echo("")
    blind = ""
    if uncovered:
        blind = (f"; {sum(c.packages for c in uncovered)} of them NOT checked, no advisory data"
                 f" for {', '.join(c.ecosystem for c in uncovered)}")
    click.echo(f"{len(findings)} findings in {len(groups)} packages"
               f" ({len(inv.packages)} packages scanned{blind})")


@click.command("scan")
@click.argument("image")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "sarif", "cyclonedx"]),
              default="table", show_default=True, help="Output format (cyclonedx: CycloneDX VEX).")
@click.option("--severity", "severity", default=",".join(LEVELS), show_default=True,
              help="Comma-separated severities to report.")
@click.option("--ignore-unfixed", is_flag=True, help="Leave out findings with no fixed version.")
@click.option("--ignore-file", type=click.Path(path_type=Path), default=Path(".laminaignore"),
              show_default=True, help="Advisory ids to leave out, each with an optional expiry date.")
@click.option("--exit-code", type=int, default=0, show_default=True,
              help="Exit with this status when any finding remains after filtering.")
@click.option("--scanners", default="vuln", show_default=True,
              help="What to look for: vuln (packages against advisories), secret (keys and"
                   " tokens in every layer), or both: vuln,secret.")
@click.option("--require-coverage/--no-require-coverage", default=None,
              help="Fail (with --exit-code, else 1) when an ecosystem in the image has no advisory"
                   " source ([scan] require_coverage in lamina.toml).")
@DB_OPTION
def scan_command(image: str, fmt: str, severity: str, ignore_unfixed: bool, ignore_file: Path,
                 exit_code: int, scanners: str, require_coverage: bool | None,
                 db: Path | None) -> None:
    """Match IMAGE's packages against the local advisory database (no network).

    Each ecosystem in the image is reported with the sources that cover it; one
    with no source is a warning, never a silent "0 findings".

    \b
    Example:
      lamina scan app:1 --scanners vuln,secret --require-coverage --exit-code 3
    """
    kinds = _scanners(scanners)
    settings = ScanSettings.load()
    required = settings.require_coverage if require_coverage is None else require_coverage
    levels = _levels(severity)
    rules = ignorefile.load(ignore_file)
    today = dt.date.today()
    for rule in rules:
        if rule.expires is not None and today >= rule.expires:
            warn(f"note: {ignore_file}:{rule.line}: the ignore rule for {rule.id} expired on"
                 f" {rule.expires}; it is reported again")
    ignored = ignorefile.active(rules, today)
    with contextlib.ExitStack() as stack:
        database = (stack.enter_context(AdvisoryDB(db_path(db))) if "vuln" in kinds else None)
        result, secrets = _look(image, database, "secret" in kinds)
    inv = result.inventory
    if secrets is not None:
        secrets = [s for s in secrets if s.severity in levels]
    for problem in result.problems:
        warn(f"warning: {problem}")
    notes = coverage.warnings(result.coverage, settings.max_age, dt.datetime.now(dt.UTC))
    for note in notes:
        warn(f"warning: {note}")
    result.findings = [
        f for f in result.findings
        if f.severity.level in levels and not (ignore_unfixed and not f.fixed)
        and not (f.names & ignored)
    ]
    if fmt == "json":
        print_json(report.scan_json(result, notes, secrets))
    elif fmt == "sarif":
        print_json(report.sarif(result, notes, secrets))
    elif fmt == "cyclonedx":
        print_json(cyclonedx.vex(inv, result.findings))
    else:
        if secrets is not None:
            _print_secrets(inv, secrets)
        if "vuln" in kinds:
            _print_coverage(result.coverage)
            _print_findings(inv, result.findings, coverage.uncovered(result.coverage))
    if (result.findings or secrets) and exit_code:
        sys.exit(exit_code)
    if required and coverage.uncovered(result.coverage):
        sys.exit(exit_code or 1)


_ACCEPT = ", ".join([mediatype.OCI_MANIFEST, mediatype.OCI_INDEX, mediatype.DOCKER_MANIFEST,
                     mediatype.DOCKER_MANIFEST_LIST])


@click.command("scan-report")
@click.argument("ref")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@click.option("--exit-code", type=int, default=0, show_default=True,
              help="Exit with this status when the report has findings.")
def scan_report_command(ref: str, fmt: str, exit_code: int) -> None:
    """Show the registry's vulnerability report of REF (registry/repository:tag or @digest).

    \b
    Example:
      lamina registry scan-report --exit-code 1 127.0.0.1:5000/team/app:1
    """
    from lamina.client.session import Session

    reference = Reference.parse(ref, Settings.load().default_registry)
    scope = (f"repository:{reference.repository}:pull",)
    # The registry's own client: credentials from docker's config, the token flow,
    # plain HTTP for loopback as everywhere else.
    with Session() as session:
        client = session.client(reference.registry)
        base = client.base_url
        try:
            digest = str(reference.digest) if reference.digest else ""
            if not digest:
                head = client.request("HEAD", f"/v2/{reference.repository}/manifests/{reference.tag}",
                                      scopes=scope, headers={"Accept": _ACCEPT})
                if head.status_code != 200 or "docker-content-digest" not in head.headers:
                    raise LaminaError(f"{ref}: the registry answered {head.status_code} for the"
                                      " manifest; is the tag pushed?")
                digest = head.headers["docker-content-digest"]
            answer = client.request(
                "GET", f"/api/v1/repositories/{reference.repository}/manifests/{digest}"
                "/vulnerabilities", scopes=scope)
        except httpx.HTTPError as e:
            raise LaminaError(f"cannot reach the registry at {base}: {e}") from e
    if answer.status_code != 200:
        try:
            message = answer.json()["errors"][0]["message"]
        except (ValueError, KeyError, IndexError, TypeError):
            message = answer.text[:200]
        raise LaminaError(f"{ref}: the registry answered {answer.status_code}: {message}")
    doc = answer.json()
    if fmt == "json":
        print_json(doc)
    else:
        print_table(["ID", "SEVERITY", "PACKAGE", "INSTALLED", "FIXED IN"],
                    [[f["id"], f["severity"], f["package"]["name"], f["installedVersion"],
                      ", ".join(f["fixedVersions"]) or "(no fix)"] for f in doc["findings"]])
        click.echo(f"{len(doc['findings'])} findings in {reference.repository}@{digest}"
                   f" (database {doc.get('database', '?')})")
    if doc["findings"] and exit_code:
        sys.exit(exit_code)


COMMANDS = [sbom_command, scan_command]
