"""``python -m trpo_lite``: the command line (see trpo_lite.cli)."""

import gc

from trpo_lite.cli import main

# The imported modules' objects (about 170,000, most of them torch's) live as long as the process: the
# garbage collector need not scan them again (a full collection in the middle of a CartPole run took
# 0.05-0.08 s on the course's 2-core machine).
gc.freeze()
raise SystemExit(main())
