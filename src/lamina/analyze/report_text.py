"""The terminal report: summary, layers, findings with fixes, dive's inefficient files."""

from __future__ import annotations

from typing import Final

from rich.console import Console
from rich.table import Table
from rich.text import Text

from lamina.analyze.analysis import Analysis
from lamina.analyze.ci import FAIL, PASS, CiResult
from lamina.analyze.findings import Finding
from lamina.analyze.sizes import format_size
from lamina.analyze.tree import ADDED, DELETED, MODIFIED, directory_sizes

_TOP: Final = 10
_SEVERITY_STYLE: Final = {"high": "bold red", "medium": "yellow", "low": "cyan",
                          "info": "dim"}


def _step(text: str, width: int = 70) -> str:
    text = " ".join(text.replace("/bin/sh -c #(nop) ", "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def render_layer(console: Console, analysis: Analysis, index: int) -> None:
    """Every path one layer added, modified or deleted, with sizes."""
    layer = analysis.layers[index]
    table = Table(title=f"Layer {index}: {_step(layer.step.created_by or layer.step.comment)}",
                  title_justify="left")
    table.add_column("", width=1)
    table.add_column("size", justify="right")
    table.add_column("type")
    table.add_column("path")
    marks = {ADDED: ("+", "green"), MODIFIED: ("~", "yellow"), DELETED: ("-", "red")}
    for change in layer.changes.changes:
        mark, style = marks[change.kind]
        table.add_row(Text(mark, style=style), format_size(change.size), change.type,
                      Text("/" + change.path, style=style if change.kind == DELETED else ""))
    console.print(table)


def render(console: Console, analysis: Analysis, findings: list[Finding],
           ci: CiResult | None = None, depth: int = 2,
           layers: tuple[int, ...] = ()) -> None:
    size = analysis.size_bytes
    wasted = analysis.wasted_bytes
    console.print(Text(f"Image {analysis.name}", style="bold"), f"({analysis.image_id[:19]})")
    console.print(f"  {len(analysis.layers)} layers ({analysis.base_layers} from the base"
                  f" image), {format_size(size)} in the layers,"
                  f" {format_size(analysis.final_bytes)} in the final image")
    share = f" ({wasted / size:.1%} of the layers)" if size else ""
    console.print(Text.assemble("  wasted bytes: ", (format_size(wasted), "bold"),
                                f" = {wasted} bytes{share}"))
    console.print(Text.assemble(
        "  efficiency (dive): ", (f"{analysis.efficiency.score:.4%}", "bold"),
        f"  dive wasted: {format_size(analysis.efficiency.wasted_bytes)}",
        f"  user wasted: {analysis.user_wasted_percent:.2%}"))
    dup = sum(d.extra_bytes for d in analysis.duplicates)
    if dup:
        console.print(f"  duplicates: {len(analysis.duplicates)} file contents stored under"
                      f" several paths, {format_size(dup)} extra")

    table = Table(title="Layers", title_justify="left", expand=False)
    for header, justify in (("#", "right"), ("size", "right"), ("wasted", "right"),
                            ("+", "right"), ("~", "right"), ("-", "right"),
                            ("step", "left")):
        table.add_column(header, justify=justify)  # type: ignore[arg-type]
    for layer in analysis.layers:
        changes = layer.changes
        table.add_row(
            f"{layer.index}{'*' if layer.is_base else ''}", format_size(layer.size),
            format_size(layer.wasted_bytes) if layer.wasted_bytes else "",
            str(changes.count(ADDED)), str(changes.count(MODIFIED)),
            str(changes.count(DELETED)), _step(layer.step.created_by or layer.step.comment))
    console.print(table)
    console.print("  * base image layer; +/~/- files added, modified, deleted"
                  " (--layer N lists them)", style="dim")
    for index in layers:
        render_layer(console, analysis, index)

    if findings:
        console.print(Text("Findings", style="bold"))
        for f in findings:
            where = f"layer {f.layer}" if f.layer is not None else ""
            console.print(Text.assemble(
                "  ", (f.severity.upper(), _SEVERITY_STYLE[f.severity]), f" [{f.rule}] ",
                f.title, "  ", (format_size(f.bytes), "bold")))
            if f.step:
                console.print(f"      made by {where}: {_step(f.step)}", style="dim",
                              highlight=False)
            if f.detail:
                console.print(f"      {f.detail}", highlight=False)
            console.print(f"      fix: {f.fix}", style="green", highlight=False)
    else:
        console.print("No findings.", style="green")

    if analysis.waste:
        table = Table(title="Largest wasted file versions", title_justify="left")
        table.add_column("size", justify="right")
        table.add_column("path")
        table.add_column("shipped in", justify="right")
        table.add_column("why")
        lost = sorted((x for x in analysis.waste if x.file.size), key=lambda x: -x.file.size)
        for item in lost[:_TOP]:
            table.add_row(format_size(item.file.size), "/" + item.file.path,
                          f"layer {item.file.layer}", f"{item.reason} in layer {item.by_layer}")
        if lost:
            console.print(table)

    ineff = analysis.efficiency.inefficiencies
    if ineff:
        table = Table(title="Inefficient files (dive)", title_justify="left")
        table.add_column("count", justify="right")
        table.add_column("wasted space", justify="right")
        table.add_column("path")
        for entry in ineff[:_TOP]:
            table.add_row(str(entry.count), format_size(entry.cumulative_bytes), entry.path)
        console.print(table)
        if len(ineff) > _TOP:
            console.print(f"  … and {len(ineff) - _TOP} more (--format json lists all)",
                          style="dim")

    dirs = [d for d in directory_sizes(analysis.tree, depth) if d.bytes][:_TOP]
    if dirs:
        table = Table(title="Biggest directories (final image)", title_justify="left")
        table.add_column("size", justify="right")
        table.add_column("entries", justify="right")
        table.add_column("path")
        for d in dirs:
            table.add_row(format_size(d.bytes), str(d.files), d.path)
        console.print(table)

    if ci is not None:
        render_ci(console, ci)


def render_ci(console: Console, ci: CiResult) -> None:
    console.print(Text("CI results", style="bold"))
    for rule in ci.rules:
        style = {PASS: "green", FAIL: "bold red"}.get(rule.status, "dim")
        message = f": {rule.message}" if rule.message else ""
        console.print(Text.assemble("  ", (rule.status.upper(), style),
                                    f": {rule.name}{message}"))
    counts = {s: sum(1 for r in ci.rules if r.status == s) for s in ("pass", "fail", "skip")}
    verdict = "PASS" if ci.passed else "FAIL"
    console.print(Text(
        f"Result:{verdict} [Total:{len(ci.rules)}] [Passed:{counts['pass']}]"
        f" [Failed:{counts['fail']}] [Skipped:{counts['skip']}]",
        style="green" if ci.passed else "bold red"))
