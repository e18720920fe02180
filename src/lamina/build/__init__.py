"""The Dockerfile builder: Dockerfile -> stage plan -> steps run in containers -> layers; cache.

``build(request)`` is the entry point (see :mod:`lamina.build.builder`).
"""
