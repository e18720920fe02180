"""The HTTP face of the registry: one module per API area, assembled in ``app.py``."""
