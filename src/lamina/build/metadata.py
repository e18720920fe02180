"""Instructions that only change the image config, and the history text docker gives them.

Pure: each takes the instruction (arguments already expanded where Docker
expands them), the config before, and returns the config after and the
comment docker writes after ``#(nop)`` (``CMD ["sh" "-c" "echo hi"]``,
``VOLUME [/data]``, ``HEALTHCHECK &{...}``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lamina.build import goformat, runconfig
from lamina.dockerfile import Instruction
from lamina.errors import LaminaError


class InstructionError(LaminaError):
    """An instruction's arguments are invalid (bad port, duration, SHELL not in JSON form)."""


@dataclass
class MetaResult:
    config: dict[str, Any]
    comment: str
    author: str | None = None
    cmd_set: bool | None = None


_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 1_000_000_000,
          "m": 60_000_000_000, "h": 3_600_000_000_000}


def parse_duration(text: str, flag: str) -> int:
    """Go's ``time.ParseDuration`` (nanoseconds)."""
    if text in ("0", ""):
        return 0
    pos, total = 0, 0.0
    while pos < len(text):
        match = _DURATION_PART.match(text, pos)
        if match is None:
            raise InstructionError(f"HEALTHCHECK --{flag}: invalid duration {text!r}")
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    return int(total)


def _ports(specs: Sequence[str]) -> list[str]:
    out: list[str] = []
    for spec in specs:
        port, _, proto = spec.partition("/")
        proto = (proto or "tcp").lower()
        if proto not in ("tcp", "udp", "sctp"):
            raise InstructionError(f"EXPOSE {spec}: invalid protocol {proto!r}")
        start, _, end = port.partition("-")
        if not start.isdigit() or (end and not end.isdigit()):
            raise InstructionError(f"EXPOSE {spec}: invalid port")
        first, last = int(start), int(end or start)
        if last < first or last > 65535:
            raise InstructionError(f"EXPOSE {spec}: invalid port range")
        out.extend(f"{p}/{proto}" for p in range(first, last + 1))
    return out


def command(instruction: Instruction, config: dict[str, Any]) -> list[str]:
    """CMD/ENTRYPOINT/RUN argv: exec form as written, shell form through the stage's shell."""
    if instruction.json_form:
        return list(instruction.arguments)
    return [*runconfig.shell(config), instruction.command_text]


def apply(instruction: Instruction, words: list[str], config: dict[str, Any], *,
          cmd_set: bool) -> MetaResult:
    """``words`` are the instruction's arguments after environment replacement."""
    kw = instruction.keyword
    cfg = dict(config)
    if kw == "ENV":
        env = list(cfg.get("Env") or [])
        shown = []
        for i in range(0, len(words), 2):
            key, value = words[i], words[i + 1] if i + 1 < len(words) else ""
            env = runconfig.set_env(env, key, value)
            shown.append(f"{key}={value}")
        cfg["Env"] = env
        return MetaResult(cfg, "ENV " + " ".join(shown))
    if kw == "LABEL":
        labels = dict(cfg.get("Labels") or {})
        shown = []
        for i in range(0, len(words), 2):
            key, value = words[i], words[i + 1] if i + 1 < len(words) else ""
            labels[key] = value
            shown.append(f"{key}={value}")
        cfg["Labels"] = labels
        return MetaResult(cfg, "LABEL " + " ".join(shown))
    if kw == "MAINTAINER":
        author = " ".join(instruction.arguments)
        return MetaResult(cfg, "MAINTAINER " + author, author=author)
    if kw == "EXPOSE":
        ports = dict(cfg.get("ExposedPorts") or {})
        for port in _ports(words):
            ports[port] = {}
        cfg["ExposedPorts"] = ports
        return MetaResult(cfg, "EXPOSE " + " ".join(sorted(words)))
    if kw == "USER":
        cfg["User"] = words[0]
        return MetaResult(cfg, "USER " + words[0])
    if kw == "VOLUME":
        volumes = dict(cfg.get("Volumes") or {})
        for volume in words:
            if not volume.strip():
                raise InstructionError("VOLUME specified can not be an empty string")
            volumes[volume] = {}
        cfg["Volumes"] = volumes
        return MetaResult(cfg, "VOLUME " + goformat.plain_list(words))
    if kw == "STOPSIGNAL":
        cfg["StopSignal"] = words[0]
        return MetaResult(cfg, "STOPSIGNAL " + words[0])
    if kw == "SHELL":
        if not instruction.json_form:
            raise InstructionError(f"line {instruction.start_line}: SHELL requires the arguments "
                                   "to be in JSON form")
        cfg["Shell"] = list(instruction.arguments)
        return MetaResult(cfg, "SHELL " + goformat.plain_list(instruction.arguments))
    if kw == "CMD":
        cmd = command(instruction, cfg)
        cfg["Cmd"] = cmd
        return MetaResult(cfg, "CMD " + goformat.quote_list(cmd), cmd_set=True)
    if kw == "ENTRYPOINT":
        entrypoint = command(instruction, cfg)
        cfg["Entrypoint"] = entrypoint
        if not cmd_set:
            cfg["Cmd"] = None
        return MetaResult(cfg, "ENTRYPOINT " + goformat.quote_list(entrypoint))
    if kw == "ONBUILD":
        expression = re.sub(r"(?i)^\s*ONBUILD\s*", "", instruction.original)
        cfg["OnBuild"] = [*(cfg.get("OnBuild") or []), expression]
        return MetaResult(cfg, "ONBUILD " + expression)
    if kw == "HEALTHCHECK":
        return _healthcheck(instruction, cfg)
    raise InstructionError(f"{kw} is not a metadata instruction")


def _healthcheck(instruction: Instruction, cfg: dict[str, Any]) -> MetaResult:
    args = list(instruction.arguments)
    kind = args[0].upper()
    health: dict[str, Any]
    if kind == "NONE":
        if len(args) > 1 or instruction.flags:
            raise InstructionError("HEALTHCHECK NONE takes no arguments")
        health = {"Test": ["NONE"]}
        interval = timeout = start = retries = 0
    elif kind == "CMD":
        rest = args[1:]
        if not rest:
            raise InstructionError("HEALTHCHECK CMD needs a command")
        test = ["CMD", *rest] if instruction.json_form else ["CMD-SHELL", " ".join(rest)]
        interval = parse_duration(instruction.flag("interval") or "", "interval")
        timeout = parse_duration(instruction.flag("timeout") or "", "timeout")
        start = parse_duration(instruction.flag("start-period") or "", "start-period")
        retries_text = instruction.flag("retries") or "0"
        if not retries_text.isdigit():
            raise InstructionError(f"HEALTHCHECK --retries: {retries_text!r} is not a number")
        retries = int(retries_text)
        for name, value in (("interval", interval), ("timeout", timeout)):
            if 0 < value < 1_000_000_000:
                raise InstructionError(f"HEALTHCHECK --{name} cannot be less than 1s")
        health = {"Test": test}
        for key, value in (("Interval", interval), ("Timeout", timeout),
                           ("StartPeriod", start), ("Retries", retries)):
            if value:
                health[key] = value
    else:
        raise InstructionError(f"HEALTHCHECK: unknown type {args[0]!r} (use CMD or NONE)")
    cfg["Healthcheck"] = health
    text = (f"&{{{goformat.quote_list(health['Test'])} {goformat.quote(goformat.duration(interval))}"
            f" {goformat.quote(goformat.duration(timeout))} "
            f"{goformat.quote(goformat.duration(start))} {goformat.quote_rune(retries)}}}")
    return MetaResult(cfg, "HEALTHCHECK " + text)


def label_instructions(labels: dict[str, str]) -> list[Instruction]:
    """``--label``: one LABEL step per key, in key order, at the end (as docker adds them).

    Their values are taken literally: single quotes keep expansion away.
    """
    out = []
    for key in sorted(labels):
        value = labels[key]
        words = ("'" + key.replace("'", "'\\''") + "'", "'" + value.replace("'", "'\\''") + "'")
        out.append(Instruction("LABEL", words, (), False, f"LABEL {key}={value}", 0, 0))
    return out
