"""Talking to registries: auth challenges, pull, push, copy, progress."""
