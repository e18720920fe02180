"""Instructions that only change the image config, and the history text docker gives them.

Pure: each takes the instruction (arguments already expanded where Docker
expands them), the config before, and returns the config after and the
comment docker writes after ``#(nop)`` (``CMD ["sh" "-c" "echo hi"]``,
``VOLUME [/data]``, ``HEALTHCHECK &{...}``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
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


def _pairs(words: list[str]) -> list[tuple[str, str]]:
    """ENV/LABEL ``K V K V ...`` as (K, V), in order (a missing last value is "")."""
    return [(words[i], words[i + 1] if i + 1 < len(words) else "")
            for i in range(0, len(words), 2)]


def _env(instruction: Instruction, words: list[str], cfg: dict[str, Any],
         cmd_set: bool) -> MetaResult:
    env = list(cfg.get("Env") or [])
    for key, value in _pairs(words):
        env = runconfig.set_env(env, key, value)
    cfg["Env"] = env
    return MetaResult(cfg, "ENV " + " ".join(f"{k}={v}" for k, v in _pairs(words)))


def _label(instruction: Instruction, words: list[str], cfg: dict[str, Any],
           cmd_set: bool) -> MetaResult:
    labels = dict(cfg.get("Labels") or {})
    labels.update(_pairs(words))
    cfg["Labels"] = labels
    return MetaResult(cfg, "LABEL " + " ".join(f"{k}={v}" for k, v in _pairs(words)))


def _maintainer(instruction: Instruction, words: list[str], cfg: dict[str, Any],
                cmd_set: bool) -> MetaResult:
    author = " ".join(instruction.arguments)
    return MetaResult(cfg, "MAINTAINER " + author, author=author)


def _expose(instruction: Instruction, words: list[str], cfg: dict[str, Any],
            cmd_set: bool) -> MetaResult:
    ports = dict(cfg.get("ExposedPorts") or {})
    for port in _ports(words):
        ports[port] = {}
    cfg["ExposedPorts"] = ports
    return MetaResult(cfg, "EXPOSE " + " ".join(sorted(words)))


def _user(instruction: Instruction, words: list[str], cfg: dict[str, Any],
          cmd_set: bool) -> MetaResult:
    cfg["User"] = words[0]
    return MetaResult(cfg, "USER " + words[0])


def _volume(instruction: Instruction, words: list[str], cfg: dict[str, Any],
            cmd_set: bool) -> MetaResult:
    volumes = dict(cfg.get("Volumes") or {})
    for volume in words:
        if not volume.strip():
            raise InstructionError("VOLUME specified can not be an empty string")
        volumes[volume] = {}
    cfg["Volumes"] = volumes
    return MetaResult(cfg, "VOLUME " + goformat.plain_list(words))


def _stopsignal(instruction: Instruction, words: list[str], cfg: dict[str, Any],
                cmd_set: bool) -> MetaResult:
    cfg["StopSignal"] = words[0]
    return MetaResult(cfg, "STOPSIGNAL " + words[0])


def _shell(instruction: Instruction, words: list[str], cfg: dict[str, Any],
           cmd_set: bool) -> MetaResult:
    if not instruction.json_form:
        raise InstructionError(f"line {instruction.start_line}: SHELL requires the arguments "
                               "to be in JSON form")
    cfg["Shell"] = list(instruction.arguments)
    return MetaResult(cfg, "SHELL " + goformat.plain_list(instruction.arguments))


def _cmd(instruction: Instruction, words: list[str], cfg: dict[str, Any],
         cmd_set: bool) -> MetaResult:
    cmd = command(instruction, cfg)
    cfg["Cmd"] = cmd
    return MetaResult(cfg, "CMD " + goformat.quote_list(cmd), cmd_set=True)


def _entrypoint(instruction: Instruction, words: list[str], cfg: dict[str, Any],
                cmd_set: bool) -> MetaResult:
    entrypoint = command(instruction, cfg)
    cfg["Entrypoint"] = entrypoint
    if not cmd_set:
        cfg["Cmd"] = None  # docker: ENTRYPOINT resets a CMD inherited from the base
    return MetaResult(cfg, "ENTRYPOINT " + goformat.quote_list(entrypoint))


def _onbuild(instruction: Instruction, words: list[str], cfg: dict[str, Any],
             cmd_set: bool) -> MetaResult:
    expression = re.sub(r"(?i)^\s*ONBUILD\s*", "", instruction.original)
    cfg["OnBuild"] = [*(cfg.get("OnBuild") or []), expression]
    return MetaResult(cfg, "ONBUILD " + expression)


def _healthcheck_step(instruction: Instruction, words: list[str], cfg: dict[str, Any],
                      cmd_set: bool) -> MetaResult:
    return _healthcheck(instruction, cfg)


_Apply = Callable[[Instruction, list[str], dict[str, Any], bool], MetaResult]

# Each metadata instruction's effect on the config, by keyword.
_APPLY: dict[str, _Apply] = {
    "ENV": _env, "LABEL": _label, "MAINTAINER": _maintainer, "EXPOSE": _expose,
    "USER": _user, "VOLUME": _volume, "STOPSIGNAL": _stopsignal, "SHELL": _shell,
    "CMD": _cmd, "ENTRYPOINT": _entrypoint, "ONBUILD": _onbuild,
    "HEALTHCHECK": _healthcheck_step,
}
KEYWORDS = frozenset(_APPLY)


def apply(instruction: Instruction, words: list[str], config: dict[str, Any], *,
          cmd_set: bool) -> MetaResult:
    """``words`` are the instruction's arguments after environment replacement."""
    step = _APPLY.get(instruction.keyword)
    if step is None:
        raise InstructionError(f"{instruction.keyword} is not a metadata instruction")
    return step(instruction, words, dict(config), cmd_set)


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
