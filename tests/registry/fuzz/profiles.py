"""Hypothesis profiles of the fuzz suite, loaded by every module that runs its properties
(also tests/registry/scaleout/test_fuzz_deployment.py, outside this directory's conftest).
``LAMINA_FUZZ_PROFILE`` picks one: ``short`` (default) or ``long`` (``make fuzz``)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "short", max_examples=40, deadline=None, derandomize=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile(
    "long", max_examples=400, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("LAMINA_FUZZ_PROFILE", "short"))
