"""``python -m trpo_lite``: the command line (see trpo_lite.cli)."""

from trpo_lite.cli import main

raise SystemExit(main())
