"""``python -m gateway.cli``: the same as the ``ppsgate`` script."""

from gateway.cli import main

main()
