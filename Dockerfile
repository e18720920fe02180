# The Lamina registry as a container image, built from this checkout.
#
#   make image                      # = scripts/wheelhouse.sh build/wheelhouse, then docker build
#   DOCKER_BUILDKIT=0 docker build -t lamina-registry:0.1.0 .
#   lamina build -t lamina-registry:0.1.0 .
#
# Nothing is downloaded while the image builds: Lamina and its pinned dependencies come
# as wheels from build/wheelhouse, which scripts/wheelhouse.sh fills with `pip wheel` on
# the host (Lamina's own wheel is made from this checkout). The wheels are for CPython
# 3.11 on glibc, so BASE must be a Debian 12 (or compatible) image with python3.11.
ARG BASE=python:3.11-slim-bookworm

FROM ${BASE} AS install
COPY build/wheelhouse/ /wheels/
# A venv without pip (Debian's python3 has no ensurepip); pip runs from its own wheel,
# from the wheelhouse only.
RUN python3 -m venv --without-pip /opt/lamina \
 && set -- /wheels/pip-*.whl \
 && /opt/lamina/bin/python3 "$1/pip" install --quiet --no-index --no-cache-dir \
      --disable-pip-version-check --find-links /wheels lamina \
 && /opt/lamina/bin/lamina --version

FROM ${BASE}
COPY --from=install /opt/lamina /opt/lamina
RUN mkdir -p /var/lib/lamina-registry && chown 65534:65534 /var/lib/lamina-registry
ENV PATH=/opt/lamina/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LAMINA_HOME=/tmp/lamina \
    LAMINA_REGISTRY_ROOT=/var/lib/lamina-registry \
    LAMINA_REGISTRY_ADDR=0.0.0.0:5000
USER 65534:65534
EXPOSE 5000
VOLUME /var/lib/lamina-registry
HEALTHCHECK --interval=10s --timeout=3s \
  CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['LAMINA_REGISTRY_ADDR'].rsplit(':', 1)[1] + '/healthz', timeout=2)"]
STOPSIGNAL SIGTERM
CMD ["lamina", "registry", "serve"]
