"""The command line's fixtures: the small school's config (tests/cli/shell.py)."""

from cli.shell import cfg  # noqa: F401
