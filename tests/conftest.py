"""Every test runs on one torch thread, as the saved results were recorded (``trpo_lite.use_threads``):
bit-for-bit comparisons with them depend on it, and it is the fastest setting for these small networks."""

from trpo_lite import use_threads

use_threads(1)

