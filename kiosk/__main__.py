"""Run `python -m kiosk` like the `kiosk` command."""

from kiosk.cli import main

main()
