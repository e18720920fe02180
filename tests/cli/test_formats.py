"""Docker's habits on the store's commands: Go-template --format, filters, prune's question.

Reference: docker CLI "Format command and log output" (text/template with json,
index, join, range), `docker images --filter dangling|reference`, `docker image
prune` (asks unless -f).
"""

from __future__ import annotations

import json
from pathlib import Path

from lamina.cli.gotemplate import Template
from lamina.store.store import Store
from tests.store.builders import add_image
from tests.tools import lamina


def test_inspect_format_with_fields_json_index_and_range(lamina_home: Path) -> None:
    store = Store(lamina_home)
    image = add_image(store, [{"a": b"1"}], tags=["app:1", "app:2"])
    result = lamina("inspect", "-f", "{{.Id}}", "app:1")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"{image.id}\n"
    assert lamina("inspect", "--format", "{{.Os}}/{{.Architecture}}", "app:1").stdout \
        == "linux/amd64\n"
    env = json.loads(lamina("inspect", "-f", "{{json .Config.Env}}", "app:1").stdout)
    assert env == ["PATH=/bin"]
    assert lamina("inspect", "-f", "{{index .RepoTags 1}}", "app:1").stdout == "app:2\n"
    assert lamina("inspect", "-f", "{{range .RepoTags}}[{{.}}]{{end}}", "app:1").stdout \
        == "[app:1][app:2]\n"
    assert lamina("inspect", "-f", "{{.Config.Env}}", "app:1").stdout == "[PATH=/bin]\n"
    assert json.loads(lamina("inspect", "--format", "json", "app:1").stdout)[0]["Id"] \
        == str(image.id)


def test_bad_templates_are_usage_errors_naming_the_problem(lamina_home: Path) -> None:
    add_image(Store(lamina_home), [{"a": b"1"}], tags=["app:1"])
    result = lamina("inspect", "-f", "{{.Idd}}", "app:1")
    assert result.exit_code == 2
    assert "no field 'Idd'" in result.stderr and "Id, RepoTags" in result.stderr
    result = lamina("inspect", "-f", "{{range .RepoTags}}x", "app:1")
    assert result.exit_code == 2 and "has no {{end}}" in result.stderr
    result = lamina("images", "--format", "yaml")
    assert result.exit_code == 2 and "a Go template" in result.stderr


def test_go_values_print_as_go_prints_them() -> None:
    doc = {"L": ["a", "b"], "M": {"z": 1, "a": True}, "N": None}
    assert Template("{{.L}} {{.M}} {{.M.q}}").render(doc) == "[a b] map[a:true z:1] <no value>"
    assert Template('{{join .L ","}}|{{.L | json}}|{{len .L}}').render(doc) == 'a,b|["a","b"]|2'
    assert Template("{{if .N}}yes{{else}}no{{end}}").render(doc) == "no"
    assert Template("{{range .L -}}\n  {{.}}\n{{- end}}").render(doc) == "ab"
    assert Template("{{.L}}\\t{{$.L}}").render(doc) == "[a b]\t[a b]"


def test_images_filters_repository_and_templates(lamina_home: Path) -> None:
    store = Store(lamina_home)
    web = add_image(store, [{"w": b"1"}], tags=["team/web:1.0", "team/web:2.0"])
    db = add_image(store, [{"d": b"2"}], tags=["team/db:1.0"])
    dangling = add_image(store, [{"x": b"3"}])

    def listed(*args: str) -> list[str]:
        result = lamina("images", "--format", "{{.Repository}}:{{.Tag}}", *args)
        assert result.exit_code == 0, result.stderr
        return sorted(result.stdout.split())

    assert listed("team/web") == ["team/web:1.0", "team/web:2.0"]
    assert listed("team/web:2.0") == ["team/web:2.0"]
    assert listed("--filter", "reference=team/*:1.*") == ["team/db:1.0", "team/web:1.0"]
    assert listed("-f", "reference=team/db") == ["team/db:1.0"]
    assert listed("-f", "reference=*") == []  # '*' does not cross '/', as path.Match
    assert listed("-f", "dangling=true") == ["<none>:<none>"]
    assert len(listed("-f", "dangling=false")) == 3
    assert lamina("images", "-q", "-f", "dangling=true").stdout.split() == [dangling.id.short]
    ids = lamina("images", "--format", "{{.ID}} {{.Size}}", "team/db").stdout
    assert ids == f"{db.id.short} 1B\n"
    assert web.id.short in lamina("images", "team/web").stdout
    bad = lamina("images", "--filter", "label=x")
    assert bad.exit_code == 2 and "'label' is not a filter" in bad.stderr


def test_history_format_template(lamina_home: Path) -> None:
    add_image(Store(lamina_home), [{"a": b"x" * 10}], tags=["app:1"], history=["make it"])
    result = lamina("history", "--format", "{{.Size}}\\t{{.CreatedBy}}", "app:1")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "10B\tmake it\n"


def test_prune_asks_and_refuses_to_guess_without_a_terminal(lamina_home: Path) -> None:
    store = Store(lamina_home)
    add_image(store, [{"a": b"1"}])
    refused = lamina("prune")
    assert refused.exit_code == 2
    assert "confirm with -f/--force" in refused.stderr
    assert len(store.images()) == 1
    result = lamina("prune", "-f", "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert len(doc["deleted"]) == 1 and doc["freedBytes"] > 0
    assert store.images() == []


def test_rmi_json(lamina_home: Path) -> None:
    image = add_image(Store(lamina_home), [{"a": b"1"}], tags=["app:1"])
    doc = json.loads(lamina("rmi", "--format", "json", "app:1").stdout)
    assert doc["untagged"] == ["app:1"] and doc["deleted"] == [str(image.id)]


def _leaf_commands() -> list[tuple[str, ...]]:
    import click

    from lamina.cli.main import COMMANDS, cli

    def leaves(path: tuple[str, ...], command: click.Command) -> list[tuple[str, ...]]:
        if isinstance(command, click.Group):
            return [leaf for name, sub in command.commands.items()
                    for leaf in leaves((*path, name), sub)]
        return [path]

    ctx = click.Context(cli)
    return [leaf for name in COMMANDS
            for leaf in leaves((name,), cli.get_command(ctx, name))]  # type: ignore[arg-type]


def test_every_command_takes_config() -> None:
    for path in _leaf_commands():
        result = lamina(*path, "--help")
        assert result.exit_code == 0, path
        assert "--config" in result.stdout, path


def test_config_file_is_read_by_the_command_given_it(tmp_path: Path) -> None:
    config = tmp_path / "lamina.toml"
    config.write_text('[core]\ndefault_registry = "registry.example:5000"\n')
    doc = json.loads(lamina("ref", "--config", config, "--format", "json", "team/app:1").stdout)
    assert doc["canonical"] == "registry.example:5000/team/app:1"
    missing = lamina("images", "--config", tmp_path / "nope.toml")
    assert missing.exit_code == 2 and "nope.toml" in missing.stderr


def test_every_help_page_has_an_example_and_no_markup() -> None:
    for path in _leaf_commands():
        page = lamina(*path, "--help").stdout
        # \b keeps click from re-wrapping the example (a wrapped command is not one to copy)
        assert "Example:\n    " in page and "lamina " in page.split("Example:")[1], path
        assert "`" not in page and "\b" not in page, path


def test_build_and_load_print_json(lamina_home: Path, tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM scratch\nCOPY f /f\n")
    (ctx / "f").write_text("data\n")
    built = lamina("build", "--format", "json", "-t", "made:1", ctx)
    assert built.exit_code == 0, built.stderr
    doc = json.loads(built.stdout)
    assert doc["tags"] == ["made:1"] and doc["steps"] == 2
    assert "#1 [1/2] FROM scratch" in built.stderr  # BuildKit's lines, off a terminal
    assert str(Store(lamina_home).resolve("made:1").id) == doc["id"]
    archive = tmp_path / "made.tar"
    assert lamina("save", "-o", archive, "made:1").exit_code == 0
    assert lamina("rmi", "made:1").exit_code == 0
    loaded = lamina("load", "--format", "json", "-i", archive)
    assert loaded.exit_code == 0, loaded.stderr
    [image] = json.loads(loaded.stdout)
    assert image["id"] == doc["id"] and image["tags"] == ["made:1"]


def test_table_formats_get_dockers_headers(lamina_home: Path) -> None:
    image = add_image(Store(lamina_home), [{"a": b"x" * 10}], tags=["app:1"],
                      history=["make it"])
    result = lamina("images", "--format", "table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}")
    assert result.exit_code == 0, result.stderr
    assert [line.split() for line in result.stdout.splitlines()] == [
        ["REPOSITORY", "TAG", "IMAGE", "ID"], ["app", "1", image.id.short]]
    history = lamina("history", "--format", "table {{.CreatedBy}}\\t{{.Size}}", "app:1")
    assert [line.split() for line in history.stdout.splitlines()] == [
        ["CREATED", "BY", "SIZE"], ["make", "it", "10B"]]
