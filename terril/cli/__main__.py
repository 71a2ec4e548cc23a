"""``python -m terril.cli``: the ``terril`` command."""

from terril.cli import main

main()
