"""Fixtures of the scan suite: test images built with docker, advisory databases.

Downloads (Python wheels, bookworm-security .debs) are cached under
$LAMINA_TEST_CACHE between runs, as tests/base_images.py caches debootstrap.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.scan.helpers import NPM_PACKAGES, PYTHON_TAG, pypa_zip, site_packages
from tests.tools import lamina, run


def _write_npm_tree(app: Path) -> None:
    for name, version in NPM_PACKAGES.items():
        pkg_dir = app / "node_modules" / name
        pkg_dir.mkdir(parents=True, exist_ok=True)
        (pkg_dir / "package.json").write_text(json.dumps(
            {"name": name, "version": version, "license": "MIT", "main": "index.js"}))
    (app / "package.json").write_text(json.dumps(
        {"name": "scan-test-app", "version": "1.0.0",
         "dependencies": {n: v for n, v in NPM_PACKAGES.items()}}))


@pytest.fixture(scope="session")
def python_image(docker: str, debian_image: str,
                 tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ``docker save`` tar: Debian base, the pinned Python releases, an npm tree.

    The Python files are COPY'd as a site-packages tree (the base has no
    Python), so the dist-info metadata is exactly what pip wrote.
    """
    context = tmp_path_factory.mktemp("python-image")
    shutil.copytree(site_packages(), context / "site", ignore=shutil.ignore_patterns(".complete"))
    _write_npm_tree(context / "app")
    (context / "Dockerfile").write_text(
        f"FROM {debian_image}\n"
        "COPY site /usr/local/lib/python3.11/dist-packages\n"
        "COPY app /srv/app\n"
        'RUN echo built > /etc/scan-test\n'
    )
    proc = subprocess.run([docker, "build", "-q", "-t", PYTHON_TAG, str(context)],
                          capture_output=True, env={**os.environ, "DOCKER_BUILDKIT": "0"})
    assert proc.returncode == 0, proc.stderr.decode()
    tar = context / "image.tar"
    run([docker, "save", "-o", tar, PYTHON_TAG])
    return tar


@pytest.fixture(scope="session")
def pypa_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An advisory database holding the whole PyPA data set."""
    db = tmp_path_factory.mktemp("pypa-db") / "advisories.sqlite"
    result = lamina("db", "import", pypa_zip(), "--db", db)
    assert result.exit_code == 0, result.stderr
    return db


@pytest.fixture(scope="session")
def debian_tar(docker: str, debian_image: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    tar = tmp_path_factory.mktemp("debian-image") / "debian.tar"
    run([docker, "save", "-o", tar, debian_image])
    return tar

