"""Real services for the scale-out deployment, each in a temporary directory on a free
loopback port: Ceph RGW (scripts/ceph-rgw.sh), PostgreSQL 15, nginx."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
from botocore.config import Config

from tests.tools import free_port, require_tool, run

REPO = Path(__file__).resolve().parents[3]
CEPH_SCRIPT = REPO / "scripts" / "ceph-rgw.sh"
PG_SCRIPT = REPO / "scripts" / "postgres.sh"


@dataclass
class Ceph:
    directory: Path
    endpoint: str
    access_key: str
    secret_key: str
    bucket: str = "lamina-tests"

    @classmethod
    def start(cls, directory: Path) -> Ceph:
        for tool in ("ceph-mon", "ceph-osd", "radosgw", "ceph", "uuidgen", "curl"):
            require_tool(tool)
        out = run(["bash", CEPH_SCRIPT, "start", directory, str(free_port())], timeout=120)
        values = dict(line.split("=", 1) for line in out.stdout.decode().split())
        ceph = cls(directory, values["S3_ENDPOINT"], values["S3_ACCESS_KEY"],
                   values["S3_SECRET_KEY"])
        ceph.client().create_bucket(Bucket=ceph.bucket)
        return ceph

    def stop(self) -> None:
        run(["bash", CEPH_SCRIPT, "stop", self.directory], check=False)

    def client(self) -> Any:
        return boto3.session.Session().client(
            "s3", endpoint_url=self.endpoint, region_name="us-east-1",
            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key,
            config=Config(s3={"addressing_style": "path"},
                          request_checksum_calculation="when_required",
                          response_checksum_validation="when_required"))

    def settings(self, prefix: str | None = None) -> dict[str, Any]:
        """Registry settings for blobs in this cluster, under a fresh key prefix."""
        return {"storage": "s3", "s3_endpoint": self.endpoint, "s3_bucket": self.bucket,
                "s3_prefix": prefix if prefix is not None else f"t-{uuid.uuid4().hex[:12]}/",
                "s3_access_key": self.access_key, "s3_secret_key": self.secret_key}


def as_env(settings: dict[str, Any]) -> dict[str, str]:
    """The same settings as LAMINA_REGISTRY_* variables, for servers started as processes."""
    return {f"LAMINA_REGISTRY_{k.upper()}": str(v).lower() if isinstance(v, bool) else str(v)
            for k, v in settings.items()}


def keys_under(ceph: Ceph, prefix: str) -> list[str]:
    client = ceph.client()
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=ceph.bucket, Prefix=prefix)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


def unfinished_uploads(ceph: Ceph, prefix: str) -> list[str]:
    answer = ceph.client().list_multipart_uploads(Bucket=ceph.bucket, Prefix=prefix)
    return [u["Key"] for u in answer.get("Uploads", [])]




@dataclass
class Postgres:
    """PostgreSQL 15 (scripts/postgres.sh) in a temporary directory on a loopback port. As
    root it runs as the unprivileged ``postgres`` user, which must reach the directory:
    it is made with mkdtemp in /tmp, not in root's private pytest directories."""

    directory: Path
    port: int

    @classmethod
    def start(cls) -> Postgres:
        require_tool("runuser")
        directory = Path(tempfile.mkdtemp(prefix="lamina-pg-"))
        server = cls(directory, free_port())
        run(["bash", PG_SCRIPT, "start", directory, str(server.port)], timeout=120)
        return server

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://lamina@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A fresh, empty database; its URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        run(["bash", PG_SCRIPT, "stop", self.directory], check=False)

    def restart(self) -> None:
        run(["bash", PG_SCRIPT, "restart", self.directory])

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


class Nginx:
    """nginx in the foreground as a round-robin balancer, with its own prefix, pid, logs
    and temp paths in a temporary directory. ``X-Upstream`` on every answer names the
    replica that served it."""

    def __init__(self, directory: Path, upstreams: list[str]) -> None:
        self.directory = directory
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.host}"
        self.upstreams = upstreams
        self.proc: subprocess.Popen[bytes] | None = None

    def config(self) -> str:
        d = self.directory
        servers = "".join(f"    server {u} max_fails=1 fail_timeout=30s;\n" for u in self.upstreams)
        return f"""worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 512; }}
http {{
  access_log {d}/access.log;
  client_body_temp_path {d}/body;
  proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi;
  scgi_temp_path {d}/scgi;
  upstream registry {{
{servers}  }}
  server {{
    listen 127.0.0.1:{self.port};
    client_max_body_size 0;
    location / {{
      proxy_pass http://registry;
      proxy_http_version 1.1;
      proxy_set_header Host $http_host;
      proxy_set_header Connection "";
      proxy_request_buffering off;
      proxy_buffering off;
      proxy_read_timeout 600s;
      add_header X-Upstream $upstream_addr always;
    }}
  }}
}}
"""

    def start(self) -> Nginx:
        nginx = require_tool("nginx")
        self.directory.mkdir(parents=True, exist_ok=True)
        # As root, nginx's workers run as nobody: they must be able to use the temp paths.
        os.chmod(self.directory, 0o777)
        conf = self.directory / "nginx.conf"
        conf.write_text(self.config())
        log = (self.directory / "stderr.log").open("ab")
        self.proc = subprocess.Popen([nginx, "-p", str(self.directory), "-c", str(conf)],
                                     stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"nginx exited: {(self.directory / 'stderr.log').read_text()}"
                                     f"{(self.directory / 'error.log').read_text()}")
            try:
                httpx.get(f"{self.url}/healthz", timeout=1)
                return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError("nginx did not answer within 20 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # nginx's master stops its workers on SIGTERM
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait(timeout=20)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=120)
