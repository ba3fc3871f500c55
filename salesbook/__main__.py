"""`python -m salesbook` is the `salesbook` command."""

from .cli import main

main()
