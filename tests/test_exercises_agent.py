"""The notebook-08 checkers accept right answers written independently (float64, float32, torch, numpy)
and name typical mistakes."""

import numpy as np
import pytest
import torch
from exercise_answers import in_float32, nudged, numbers_differ

from trpo_lite import BACKTRACK_COEF, conjugate_gradient, flat_params, line_search, set_flat_params
from trpo_lite.exercises._base import ExerciseError
from trpo_lite.exercises.agent import CASES, STEP_SLIPS, _after, check_explained_variance, check_trpo_step


def step_variant(params, g, fvp, max_kl, surrogate_gain, kl, *, direction="x", scale="sqrt",
                 search="package", float32=False, nudge=0.0):
    """One TRPO update with switches for the typical mistakes (defaults: right); the scale is computed
    by hand, not with natural_step_scale, so the right answer is independent of the package's. float32:
    the step is built in float32 (g and every product H v rounded); nudge: the full step is 1 + nudge
    times too long."""
    if float32:
        g, fvp = g.float(), lambda v, fvp=fvp: fvp(v.double()).float()
    if direction == "x":
        d = conjugate_gradient(fvp, g)
    elif direction == "solve":  # another right answer: H formed column by column, solved directly
        H = torch.stack([fvp(e) for e in torch.eye(len(g), dtype=g.dtype)], dim=1)
        d = torch.linalg.solve(H, g)
    else:
        d = {"g": g, "Hg": fvp(g)}[direction]
    dHd = float(d @ fvp(d))
    beta = {"sqrt": (2 * max_kl / dHd) ** 0.5, "none": 1.0, "no_sqrt": 2 * max_kl / dHd,
            "no_two": (max_kl / dHd) ** 0.5}[scale]
    full_step = beta * (1 + nudge) * d
    if search == "package":
        line_search(params, full_step, surrogate_gain, kl, max_kl)
        return
    theta = flat_params(params)
    if search == "none":
        set_flat_params(params, theta + full_step)
        return
    previous = 0.0
    for i in range(11):  # own backtracking: 1, 0.8, ..., 0.8^10
        fraction = BACKTRACK_COEF**i
        if search == "subtract":  # walks theta by differences and undoes the walk: off by rounding
            set_flat_params(params, flat_params(params) + (fraction - previous) * full_step)
        else:
            set_flat_params(params, theta + fraction * full_step)
        with torch.no_grad():
            if kl() <= max_kl and surrogate_gain() > 0:
                return
        previous = fraction
    if search == "copy":
        set_flat_params(params, theta)
    elif search == "subtract":
        set_flat_params(params, flat_params(params) - previous * full_step)


def test_trpo_step_checker_accepts_right_answers(capsys):
    assert check_trpo_step(step_variant).startswith("Correct")
    assert check_trpo_step(lambda *args: step_variant(*args, search="copy"))
    assert check_trpo_step(lambda *args: step_variant(*args, direction="solve"))
    assert check_trpo_step(lambda *args: step_variant(*args, float32=True)).startswith("Correct")
    assert check_trpo_step(lambda *args: step_variant(*args, float32=True, search="copy"))
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(("float32", "relative"), [(False, 3e-5), (True, 3e-5)])
def test_a_slightly_wrong_step_fails(float32, relative):
    # the step is judged at float32's 1e-5 whatever its dtype (the parameters stay float64)
    with pytest.raises(ExerciseError, match=r"your parameters end up \S+ away from TRPO's step"):
        check_trpo_step(lambda *args: step_variant(*args, float32=float32, nudge=relative))


@pytest.mark.parametrize(
    ("mistake", "message"),
    [
        ({"direction": "g"}, "points along g, the plain gradient"),
        ({"direction": "Hg"}, "points along H g"),
        ({"scale": "no_sqrt"}, "the scale is its square root"),
        ({"scale": "none"}, "stepped by x itself"),
        ({"scale": "no_two"}, r"sqrt\(delta / x\^T H x\)"),
        ({"search": "none"}, r"mean KL .* > max_kl"),
        ({"search": "keep"}, r"surrogate gain .* <= 0 instead of restoring"),
        ({"search": "subtract"}, "not exact in floating point"),
        ({"direction": "g", "float32": True}, "points along g, the plain gradient"),
        ({"scale": "no_two", "float32": True}, r"sqrt\(delta / x\^T H x\)"),
    ],
)
def test_trpo_step_checker_names_the_mistake(mistake, message):
    with pytest.raises(ExerciseError, match=message):
        check_trpo_step(lambda *args: step_variant(*args, **mistake))


def test_trpo_step_checker_rejects_doing_nothing():
    # indistinguishable from a full step too long for every fraction: the message names both
    with pytest.raises(ExerciseError, match="theta is unchanged: set the parameters.*scale x to the trust"):
        check_trpo_step(lambda *args: None)


def ev_right(values, targets):
    residual, targets = (targets - values).numpy(), targets.numpy()
    return 1.0 - np.var(residual) / np.var(targets)  # numpy's ddof 0 on both sides: the same ratio


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (lambda v, y: 1 - (y - v).var() / v.var(), r"divided by Var\[values\]"),
        (lambda v, y: (y - v).var() / y.var() - 1, "sign is flipped"),
        (lambda v, y: (y - v).var() / y.var(), "left \\*unexplained\\*"),
        (lambda v, y: 1 - ((y - v) ** 2).mean() / y.var(), "mean squared error"),
        (lambda v, y: 1 - np.var((y - v).numpy()) / y.var(), "different variance formulas"),
        (lambda v, y: 1 - v.var() / y.var(), "spreads of V and of the targets"),
        (lambda v, y: torch.stack([1 - (y - v).var() / y.var()] * 2), "should be one number"),
        (lambda v, y: None, "returned None"),
        (in_float32(lambda v, y: (y - v).var() / y.var()), "left \\*unexplained\\*"),
    ],
)
def test_explained_variance_checker_names_the_mistake(answer, message):
    with pytest.raises(ExerciseError, match=message):
        check_explained_variance(answer)


def ev_torch(values, targets):
    return 1 - torch.var(targets - values) / torch.var(targets)  # a 0-d tensor


def test_explained_variance_checker_accepts_right_answers(capsys):
    assert check_explained_variance(ev_right).startswith("Correct")
    assert check_explained_variance(ev_torch).startswith("Correct")
    assert check_explained_variance(in_float32(ev_torch)).startswith("Correct")
    assert check_explained_variance(in_float32(ev_right)).startswith("Correct")
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(("answer", "relative"), [(ev_torch, 3e-8), (in_float32(ev_torch), 5e-5)])
def test_a_slightly_wrong_explained_variance_fails_with_two_different_numbers(answer, relative):
    with pytest.raises(ExerciseError) as error:
        check_explained_variance(nudged(answer, relative))
    assert numbers_differ(str(error.value), "the explained variance should be {n}; yours is {n}")


def test_each_step_mistake_is_told_apart_where_trpo_steps():
    # The checker names a mistake by its result, so on some case where TRPO's step is accepted each
    # mistake must move theta (else it looks like doing nothing) to a point of its own.
    told_apart = set()
    for index, case in enumerate(CASES):
        theta, right, _, _ = _after(None, case, index)
        if torch.equal(right, theta):
            continue  # rejected: every answer must leave theta as it was
        results = {mistake: _after(None, case, index, mistake)[1] for mistake in STEP_SLIPS}
        for mistake, got in results.items():
            others = [right, theta] + [r for m, r in results.items() if m != mistake]
            if not any(torch.allclose(got, other, rtol=1e-9, atol=1e-12) for other in others):
                told_apart.add(mistake)
    assert told_apart == set(STEP_SLIPS)
