"""``lamina lint --image``: findings measured in bytes of the image built from the Dockerfile.

:mod:`steps` reads both sides (instructions, history entries), :mod:`join` pairs them,
:mod:`measure` reads each matched step's layer in the analyzer's trees, and
:func:`report.with_image_costs` puts it together.
"""
