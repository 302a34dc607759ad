"""A rerun of a saved run against the saved numbers: to the last bit where the file was made, to rounding
elsewhere (``trpo_lite.records.made_here``).

On another CPU the first update differs from the saved one by rounding only, and every update carries the
difference forward, about tenfold per iteration: an Intel Xeon rerunning the course's files, made on an AMD
EPYC, was within a relative 5e-6 after one iteration, and up to 1e-2 after three (Pendulum-v1, NPG at
delta = 0.2). So there the first iteration must agree within FIRST_ITERATION_RTOL and the counts (env steps,
backtracks, accepted steps) in every iteration; a changed agent, config or seed moves the first iteration's
KL by far more (the next seed's: 17 %).
"""

import numpy as np

FIRST_ITERATION_RTOL = 1e-4
COUNTS = ("env_steps", "backtracks", "accepted")


def assert_reproduces(got: dict, saved: dict, made_here: bool) -> None:
    """got: name -> [I] values of the rerun; saved: the same names -> the saved run's values (I or more)."""
    for name, values in got.items():
        got_values = np.array(values, dtype=float)
        want = np.array(saved[name][:len(values)], dtype=float)
        hint = f"{name}: has the agent changed? Then rerun the script that made the file"
        if made_here or name in COUNTS:
            np.testing.assert_array_equal(got_values, want, err_msg=hint)
        else:
            np.testing.assert_allclose(got_values[0], want[0], rtol=FIRST_ITERATION_RTOL, err_msg=hint)
