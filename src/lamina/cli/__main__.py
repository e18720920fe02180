"""``python -m lamina.cli``: the same as the ``lamina`` command."""

from lamina.cli.main import main

main()
