"""Robot accounts: a random secret shown once, scoped grants, an expiry.

The secret is 32 random bytes; only its SHA-256 is stored (a secret of that entropy
needs no slow hash, and checking it per request stays cheap).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time

from lamina.errors import LaminaError
from lamina.registry.access import Action
from lamina.registry.auth.accounts import check_robot_name
from lamina.registry.auth.permissions import Robot, RobotGrant
from lamina.registry.auth.roles import REPOSITORY_ACTIONS

_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_PATTERN = re.compile(r"[a-z0-9][a-z0-9._/*-]*")


def parse_duration(text: str) -> float:
    """``90s``, ``15m``, ``12h``, ``30d``, ``2w`` in seconds."""
    m = _DURATION.fullmatch(text.strip())
    if not m:
        raise LaminaError(f"invalid duration {text!r}: a number and a unit of s, m, h, d, w "
                          "(e.g. 30d)")
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse_grant(text: str) -> RobotGrant:
    """``REPOSITORY-PATTERN:ACTIONS``, e.g. ``team/*:pull,push`` or ``team/app:pull``;
    a bare namespace ``team`` means every repository in it (``team/*``)."""
    pattern, sep, actions = text.rpartition(":")
    if not sep or not pattern or not actions:
        raise LaminaError(f"invalid robot scope {text!r}: expected PATTERN:ACTIONS, "
                          "e.g. team/*:pull,push")
    if not _PATTERN.fullmatch(pattern):
        raise LaminaError(f"invalid robot scope {text!r}: {pattern!r} is not a repository "
                          "name or pattern")
    if "/" not in pattern and "*" not in pattern:
        pattern += "/*"
    wanted = {a.strip() for a in actions.split(",") if a.strip()}
    if "*" in wanted:
        wanted = {str(a) for a in REPOSITORY_ACTIONS}
    unknown = wanted - {str(a) for a in REPOSITORY_ACTIONS}
    if unknown or not wanted:
        raise LaminaError(f"invalid robot scope {text!r}: actions are pull, push, delete")
    return RobotGrant(pattern, frozenset(Action(a) for a in wanted))


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_robot(name: str, grants: list[RobotGrant], lifetime: float | None,
              description: str = "", now: float | None = None) -> tuple[Robot, str]:
    """A robot and its secret (returned once; only its digest is kept)."""
    if not grants:
        raise LaminaError("a robot needs at least one scope (e.g. --scope team/*:pull)")
    secret = secrets.token_urlsafe(32)
    expires = (now or time.time()) + lifetime if lifetime is not None else None
    robot = Robot(check_robot_name(name), secret_digest(secret), tuple(grants), expires,
                  description)
    return robot, secret


def secret_matches(robot: Robot, secret: str) -> bool:
    return hmac.compare_digest(robot.secret_sha256, secret_digest(secret))
