"""``python -m dltool`` runs the CLI."""

from dltool.cli.app import main

if __name__ == "__main__":
    raise SystemExit(main())
