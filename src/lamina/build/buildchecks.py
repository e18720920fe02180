"""BuildKit's build checks (``# check=skip=...;error=true``, ``--check``), run by Lamina's lint.

Dockerfile reference, "check" parser directive, and the build checks BuildKit
runs: each check below is evaluated by the Lamina lint rule that finds the same
problem. ``skip=A,B`` (or ``skip=all``) leaves checks out; ``error=true`` makes
a warning fail the build before any step runs. Checks run when the Dockerfile
has a ``# check=`` directive or ``--check`` is given.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass

from lamina.build import undefinedvars
from lamina.build.dockerignore import IgnoreMatcher
from lamina.errors import LaminaError
from lamina.store.store import Store

# BuildKit check name -> the Lamina lint rule that finds it.
CHECKS: dict[str, str] = {
    "JSONArgsRecommended": "LM502",
    "MaintainerDeprecated": "LM504",
    "SecretsUsedInArgOrEnv": "LM404",
    "WorkdirRelativePath": "LM512",
    "MultipleInstructionsDisallowed": "LM513",
    "FromPlatformFlagConstDisallowed": "LM105",
    "ExposeInvalidFormat": "LM503",
    "StageNameCasing": "LM530",
    "FromAsCasing": "LM531",
    "ConsistentInstructionCasing": "LM532",
    "ExposeProtoCasing": "LM534",
    "ReservedStageName": "LM308",
    "NoEmptyContinuation": "LM002",
    "LegacyKeyValueFormat": "LM533",
    "UndefinedArgInFrom": "LM106",
    "InvalidDefaultArgInFrom": "LM107",
    "RedundantTargetPlatform": "LM108",
}
# Checked here rather than by lint: it needs the build context's .dockerignore.
COPY_IGNORED = "CopyIgnoredFile"
# Experimental in BuildKit: runs only when # check=experimental= names it (or "all").
DEFINITION_DESCRIPTION = "InvalidDefinitionDescription"
_DIRECTIVE = re.compile(r"^#\s*(syntax|escape|check)\s*=", re.IGNORECASE)


class BuildCheckError(LaminaError):
    """A build check failed with ``error=true``, or the directive is malformed."""


@dataclass(frozen=True)
class CheckDirective:
    skip: frozenset[str] = frozenset()
    error: bool = False
    experimental: frozenset[str] = frozenset()  # BuildKit's opt-in checks: names or "all"

    @classmethod
    def parse(cls, text: str | None) -> CheckDirective:
        """``skip=A,B;error=true;experimental=C`` (keys in any order, all optional)."""
        skip: set[str] = set()
        experimental: set[str] = set()
        error = False
        for part in (p.strip() for p in (text or "").split(";") if p.strip()):
            key, sep, value = part.partition("=")
            key = key.strip().lower()
            if key in ("skip", "experimental") and sep:
                names = {v.strip() for v in value.split(",") if v.strip()}
                (skip if key == "skip" else experimental).update(names)
            elif key == "error" and sep and value.strip().lower() in ("true", "false"):
                error = value.strip().lower() == "true"
            else:
                raise BuildCheckError(f"# check={text}: {part!r} is not skip=NAMES, "
                                      "error=true|false or experimental=NAMES")
        return cls(frozenset(skip), error, frozenset(experimental))

    def wants(self, experimental_check: str) -> bool:
        return bool({experimental_check, "all"} & self.experimental) \
            and experimental_check not in self.skip


@dataclass(frozen=True)
class CheckWarning:
    name: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"WARN: {self.name}: {self.message} (line {self.line})"


def run_checks(text: str, filename: str, directive: CheckDirective,
               ignore: IgnoreMatcher | None = None, store: Store | None = None,
               build_args: Mapping[str, str] | None = None) -> list[CheckWarning]:
    """The warnings of every check not skipped; ``ignore``: the context's .dockerignore,
    ``store``: where base images' environments are read (UndefinedVar)."""
    if "all" in directive.skip:
        return []
    from lamina.lint.engine import lint_text  # the linter: only when checks are asked for
    from lamina.lint.settings import LintSettings

    wanted = {rule: name for name, rule in CHECKS.items() if name not in directive.skip}
    report = lint_text(text, filename=filename,
                       settings=LintSettings(shellcheck=False, failure_threshold=None))
    out = [CheckWarning(wanted[f.rule], f.line, f.message)
           for f in report.findings if f.rule in wanted]
    if ignore is not None and COPY_IGNORED not in directive.skip:
        out.extend(copies_of_ignored_files(text, filename, ignore))
    if directive.wants(DEFINITION_DESCRIPTION):
        out.extend(definition_descriptions(text, filename))
    if store is not None and undefinedvars.NAME not in directive.skip:
        from lamina.dockerfile import parse

        found = undefinedvars.undefined_vars(parse(text, filename=filename),
                                             undefinedvars.stored_env(store), build_args)
        out.extend(CheckWarning(undefinedvars.NAME, line, undefinedvars.message(name, hint))
                   for line, name, hint in found)
    return sorted(out, key=lambda w: w.line)


def copies_of_ignored_files(text: str, filename: str,
                            ignore: IgnoreMatcher) -> list[CheckWarning]:
    """BuildKit's CopyIgnoredFile: a COPY/ADD source of the context that .dockerignore leaves
    out. As BuildKit, nothing is said when the patterns have ``!`` exceptions (a file under
    an excluded directory may be let back in), and ``.`` only when everything is excluded."""
    if not ignore.patterns or ignore.has_exceptions:
        return []
    from lamina.dockerfile import parse

    everything = any(p.text in ("*", "**", "**/*") for p in ignore.patterns)
    out = []
    for stage in parse(text, filename=filename).stages:
        for instruction in stage.instructions:
            if instruction.keyword not in ("COPY", "ADD") or instruction.has_flag("from"):
                continue
            for src in instruction.arguments[:-1]:
                if src.startswith(("<<", "http://", "https://", "git@", "git://")):
                    continue
                rel = posixpath.normpath("/" + src).lstrip("/") or "."
                if (everything if rel == "." else ignore.excluded(rel)):
                    verb = instruction.keyword.capitalize()
                    out.append(CheckWarning(COPY_IGNORED, instruction.start_line,
                                            f'Attempting to {verb} file "{src}" that is '
                                            "excluded by .dockerignore"))
    return out


def definition_descriptions(text: str, filename: str) -> list[CheckWarning]:
    """BuildKit's InvalidDefinitionDescription: the comment right above ``FROM ... AS name``
    or ``ARG`` describes it only when it starts with the name (``# name <description>``).
    Comments count from the previous instruction on, as BuildKit's parser collects them;
    a bare ``#`` line starts afresh and parser directives are not comments."""
    from lamina.dockerfile import parse

    dockerfile = parse(text, filename=filename)
    out: list[CheckWarning] = []
    previous_end = 0
    for instruction in dockerfile.instructions:
        comments: list[str] = []
        for line in dockerfile.lines[previous_end:instruction.start_line - 1]:
            stripped = line.strip()
            if not stripped.startswith("#") or _DIRECTIVE.match(stripped):
                continue
            body = stripped[1:].strip()
            comments = [*comments, body] if body else []
        previous_end = instruction.end_line
        if instruction.keyword == "ARG":
            keys = [name for name, _ in instruction.arg_defaults()]
        elif instruction.keyword == "FROM" and len(instruction.arguments) >= 3:
            keys = list(dict.fromkeys([instruction.arguments[2].lower(),
                                       instruction.arguments[2]]))
        else:
            continue
        if not comments or comments[-1].split(" ")[0] in keys:
            continue
        example = keys[0] if len(keys) == 1 or instruction.keyword == "FROM" else "<arg_key>"
        out.append(CheckWarning(DEFINITION_DESCRIPTION, instruction.start_line,
                                f"Comment for {instruction.keyword} should follow the format: "
                                f"`# {example} <description>`"))
    return out
