"""``python -m trpo_lite``: the command line (see trpo_lite.cli)."""

import gc

from trpo_lite.cli import main

# The imported modules' objects live as long as the process: the garbage collector need not scan them
# again (a full collection in the middle of training took 0.08 s on the course's machine).
gc.freeze()
raise SystemExit(main())
