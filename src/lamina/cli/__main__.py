"""``python -m lamina.cli``: the same as the ``lamina`` command."""

from lamina.cli.entry import main

main()
