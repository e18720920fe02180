"""Lamina: a container image platform — registry, builder, analyser, scanner."""

__version__ = "0.1.0"
