"""``python -m varinterp`` (also what ``torchrun -m varinterp`` runs)."""

from varinterp.cli.main import main

main()
