"""`lamina slim` on the images issue 10 names: NEW smaller, passing the same probes, and
holding exactly the files its report explains."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from lamina.store.store import Store
from tests.slim.slimcheck import check_explained, layer_paths, report_of
from tests.tools import free_port, lamina
from tests.vulndb import PYPA_ZIP as VULNDB

pytestmark = [pytest.mark.integration, pytest.mark.root]

SITE = "/usr/local/lib/python3.11/dist-packages"


def test_python_web_app(python_app_image: str, into_store: Callable[[str], str], store: Store,
                        no_leftovers: None) -> None:
    """Python awareness: the whole certifi distribution (code, package data, dist-info) stays,
    so importlib.metadata and package data work in NEW; unused Debian packages go and the
    dpkg database lists only the packages left."""
    into_store(python_app_image)
    assert lamina("db", "import", VULNDB).exit_code == 0
    port = free_port()
    result = lamina("slim", python_app_image, "-t", "slim/python:new", "--format", "json",
                    "--cmd", f"python3 /app/webapp.py {port}",
                    "--http-probe", f"{port}/health", "--http-probe", f"{port}/",
                    "--probe-cmd", f"python3 /app/checkapp.py {port}")
    report = report_of(result)
    check_explained(store, "slim/python:new", report)
    assert report["tracer"] == "fanotify"
    assert report["size"]["ratio"] > 3
    kept = {k["path"]: k for k in report["kept"]}
    record = next(p for p in kept if p.startswith(f"{SITE}/certifi-") and p.endswith("/RECORD"))
    assert kept[record]["reason"] == "python-distribution"
    assert f"{SITE}/certifi/cacert.pem" in kept
    assert f"{SITE}/certifi/py.typed" in kept  # never opened: kept with its distribution
    assert f"{SITE}/urllib3/__init__.py" not in kept  # installed, never imported
    removed = {p["name"] for p in report["packages"]["removed"]}
    assert "urllib3" in removed and "certifi" not in removed
    # The scanner's own inventory of both images: urllib3's advisories went with it.
    vulns = report["vulnerabilities"]
    assert vulns["before"] > vulns["after"]
    assert vulns["removed"]
    # only PyPI advisories were imported: the Debian packages' count says nothing (issue 19)
    assert vulns["uncovered"] == ["Debian:12"]
    assert {"perl-base", "coreutils", "apt"} <= removed
    assert "libpython3.11-minimal" not in removed
    status = kept["/var/lib/dpkg/status"]
    assert status["reason"] == "package-database"
    # The ELF closure found python's libraries without them being listed by hand.
    assert any(k["reason"] in ("traced", "elf-needed") for p, k in kept.items()
               if "/libexpat.so" in p)
    assert "stderr" not in result.stdout


def test_static_binary(static_image: str, into_store: Callable[[str], str], store: Store,
                       no_leftovers: None) -> None:
    """A static binary on a Debian base: NEW is the binary, its data and the essentials."""
    into_store(static_image)
    port = free_port()
    report = report_of(lamina(
        "slim", static_image, "-t", "slim/static:new", "--format", "json",
        "--cmd", f"/app/busybox httpd -f -p 127.0.0.1:{port} -h /srv",
        "--http-probe", f"{port}/index.html"))
    check_explained(store, "slim/static:new", report)
    assert report["size"]["ratio"] > 20
    paths = layer_paths(store, "slim/static:new")
    assert {"/app/busybox", "/srv/index.html", "/etc/passwd", "/etc/group"} <= paths
    assert "/usr/bin/bash" not in paths and "/usr/lib/x86_64-linux-gnu/libc.so.6" not in paths
    assert report["packages"]["after"] < report["packages"]["before"]


def test_shell_script(script_image: str, into_store: Callable[[str], str], store: Store,
                      no_leftovers: None) -> None:
    """A batch script of busybox tools (--exec-wait): the data it never reads is dropped,
    the applet links it ran stay."""
    into_store(script_image)
    report = report_of(lamina("slim", script_image, "-t", "slim/script:new", "--format", "json",
                              "--exec-wait"))
    check_explained(store, "slim/script:new", report)
    paths = layer_paths(store, "slim/script:new")
    assert "/opt/data/unused.bin" not in paths
    assert {"/app/script.sh", "/bin/busybox", "/bin/sort", "/bin/tr", "/bin/sh"} <= paths


def test_shell_script_with_strace(script_image: str, into_store: Callable[[str], str],
                                  store: Store, no_leftovers: None) -> None:
    """The strace fallback: the report names it, and the script's interpreter is kept from
    its #! line (strace does not show the kernel loading it)."""
    into_store(script_image)
    report = report_of(lamina("slim", script_image, "-t", "slim/script:strace", "--format",
                              "json", "--exec-wait", "--tracer", "strace"))
    check_explained(store, "slim/script:strace", report)
    assert report["tracer"] == "strace"
    kept = {k["path"]: k for k in report["kept"]}
    assert kept["/bin/busybox"]["reason"] == "script-interpreter"
    assert "/opt/data/unused.bin" not in kept


def test_dlopen_plugin_needs_include_path(dlopen_image: str, into_store: Callable[[str], str],
                                          store: Store, no_leftovers: None) -> None:
    """The plugin the app dlopen()s is kept because the trace saw it load (not by the ELF
    closure); its enable marker, only ever checked with access(), is invisible to fanotify:
    verification catches the miss, names the path and tags nothing, and --include-path
    keeps it."""
    into_store(dlopen_image)
    failed = lamina("slim", dlopen_image, "-t", "slim/dlopen:new", "--exec-wait")
    assert failed.exit_code == 1
    assert "was not tagged" in failed.stderr
    assert "/opt/plugins/libhello.so.enabled" in failed.stderr
    assert "--include-path" in failed.stderr
    with pytest.raises(Exception, match="slim/dlopen"):
        store.resolve("slim/dlopen:new")

    report = report_of(lamina("slim", dlopen_image, "-t", "slim/dlopen:new", "--exec-wait",
                              "--format", "json", "--include-path", "/opt/plugins/*"))
    check_explained(store, "slim/dlopen:new", report)
    kept = {k["path"]: k for k in report["kept"]}
    assert kept["/opt/plugins/libhello.so"]["reason"] == "traced"
    assert kept["/opt/plugins/libhello.so.enabled"]["reason"] == "include-path"
    assert kept["/usr/lib/x86_64-linux-gnu/libc.so.6"]["reason"] in ("traced", "elf-needed")


def test_keep_base_shares_the_base_layers(script_image: str, busybox_image: str,
                                          into_store: Callable[[str], str], store: Store,
                                          no_leftovers: None) -> None:
    """--keep-base: NEW starts with the base's own layers and adds one slimmed delta."""
    into_store(script_image)
    into_store(busybox_image)
    report = report_of(lamina("slim", script_image, "-t", "slim/script:delta", "--exec-wait",
                              "--format", "json", "--keep-base", busybox_image))
    base = store.resolve(busybox_image)
    new = store.resolve("slim/script:delta")
    assert [layer.digest for layer in new.layers[:-1]] == [layer.digest for layer in base.layers]
    delta = layer_paths(store, "slim/script:delta")
    assert "/app/script.sh" in delta and "/opt/data/unused.bin" not in delta
    assert "/bin/busybox" not in delta  # shared from the base layer
    assert report["size"]["after"] < report["size"]["before"]
    assert all(p["passed"] for p in report["probes"]["new"])


def test_include_package_keeps_whole_packages(python_app_image: str,
                                              into_store: Callable[[str], str], store: Store,
                                              no_leftovers: None) -> None:
    """--include-package by name, per ecosystem (slim#128): every file a dpkg package
    lists and every file in a Python distribution's RECORD, and the trimmed dpkg database
    then lists that package too."""
    into_store(python_app_image)
    port = free_port()
    report = report_of(lamina(
        "slim", python_app_image, "-t", "slim/python:pkgs", "--format", "json",
        "--cmd", f"python3 /app/webapp.py {port}", "--http-probe", f"{port}/",
        "--include-package", "python:urllib3", "--include-package", "deb:bash"))
    check_explained(store, "slim/python:pkgs", report)
    kept = {k["path"]: k for k in report["kept"]}
    assert kept[f"{SITE}/urllib3/__init__.py"]["reason"] == "include-package"
    assert kept["/usr/bin/bash"]["reason"] == "include-package"
    assert kept["/usr/bin/bash"]["detail"] == "include-package (deb:bash)"
    removed = {p["name"] for p in report["packages"]["removed"]}
    assert "bash" not in removed and "urllib3" not in removed
    assert kept["/var/lib/dpkg/info/bash.list"]["reason"] == "package-database"
