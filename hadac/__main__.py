"""`python -m hadac` runs the `hadac` command."""

from hadac.cli import main

main()
