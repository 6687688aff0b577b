"""`python -m possync …` runs the CLI (as the `possync` console script does)."""

from possync.cli.main import main

main()
