"""The notebook-06 checkers accept right answers written independently (float64, float32, torch) and name
typical mistakes."""

import numpy as np
import pytest
import torch
from exercise_answers import numbers_differ

from trpo_lite import BACKTRACK_COEF, flat_params, line_search, set_flat_params
from trpo_lite.exercises._base import ExerciseError
from trpo_lite.exercises.conjugate_gradient import (
    check_cg_bound_iterations,
    check_conjugate_gradient,
    check_line_search,
)


def cg_variant(fvp, b, iters, *, sign=1.0, beta_rule="fletcher_reeves", update_rr=True, stop=True,
               curvature_in_alpha=True, explicit_residual=False):
    """One CG loop with switches for the typical mistakes (defaults: right)."""
    x, r = torch.zeros_like(b), b.clone()
    p, rr = r.clone(), r @ r
    for _ in range(iters):
        if stop and rr < 1e-10:
            break
        Hp = fvp(p)
        alpha = rr / (p @ Hp if curvature_in_alpha else p @ p)
        x = x + alpha * p
        # explicit_residual recomputes b - H x: the same r in exact arithmetic, another correct formulation.
        r = b - fvp(x) if explicit_residual else r - sign * alpha * Hp
        rr_new = r @ r
        beta = {"fletcher_reeves": rr_new / rr, "curvature": rr_new / (p @ Hp), "none": 0.0}[beta_rule]
        p = r + beta * p
        if update_rr:
            rr = rr_new
    return x


def float32_cg(fvp, b, iters, **switches):
    """CG run in float32: b and every product H p rounded to float32."""
    return cg_variant(lambda v: fvp(v.double()).float(), b.float(), iters, **switches)


def test_cg_checker_accepts_right_answers(capsys):
    assert check_conjugate_gradient(cg_variant).startswith("Correct")
    assert check_conjugate_gradient(lambda fvp, b, iters: cg_variant(fvp, b, iters, explicit_residual=True))
    assert check_conjugate_gradient(float32_cg).startswith("Correct")
    assert check_conjugate_gradient(lambda fvp, b, iters: float32_cg(fvp, b, iters, explicit_residual=True))
    assert check_conjugate_gradient(lambda *args: cg_variant(*args).numpy()).startswith("Correct")
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(("answer", "relative"), [(cg_variant, 3e-7), (float32_cg, 5e-4)])
def test_a_slightly_wrong_final_x_fails(answer, relative):
    # tolerance 1e-8 (float64) or 1e-5 (float32), times SLACK = 10 for CG's rounding
    def wrong(fvp, b, iters):
        x = answer(fvp, b, iters)
        return x * (1 + relative) if iters == len(b) else x

    with pytest.raises(ExerciseError) as error:
        check_conjugate_gradient(wrong)
    assert numbers_differ(str(error.value), r"after \d iterations: x\[\d\] should be {n}; yours is {n}")


@pytest.mark.parametrize(
    ("mistake", "message"),
    [
        ({"sign": -1.0}, "residual is updated the wrong way"),
        ({"update_rr": False}, "keep using the first residual"),
        ({"beta_rule": "curvature"}, r"not r_new\^T r_new / p\^T H p"),
        ({"beta_rule": "none"}, "steepest descent"),
        ({"curvature_in_alpha": False}, "after one iteration x should be alpha"),
        ({"stop": False}, "stop when r\\^T r < 1e-10"),
    ],
)
@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_cg_checker_names_the_mistake(mistake, message, precision):
    # The switch really changes the answer: on a random SPD problem, or (no stop) once r = 0 on H = 2 I.
    H = torch.randn(6, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    H, b = H @ H.T + torch.eye(6, dtype=torch.float64), torch.ones(6, dtype=torch.float64)
    if mistake == {"stop": False}:
        assert torch.isnan(cg_variant(lambda v: 2 * v, b, 3, **mistake)).all()
    else:
        assert not torch.allclose(cg_variant(H.__matmul__, b, 4, **mistake), cg_variant(H.__matmul__, b, 4))
    learner = cg_variant if precision == "float64" else float32_cg
    with pytest.raises(ExerciseError, match=message):
        check_conjugate_gradient(lambda fvp, b, iters: learner(fvp, b, iters, **mistake))


def test_cg_checker_rejects_a_wrong_shape():
    with pytest.raises(ExerciseError, match="has shape"):
        check_conjugate_gradient(lambda fvp, b, iters: cg_variant(fvp, b, iters)[:-1])


def search_variant(params, full_step, surrogate_gain, kl, max_kl, *, check_kl=True, check_gain=True,
                   restore="copy", first=0, coef=BACKTRACK_COEF, precision=float, nudge=0.0):
    """A backtracking loop with switches for the typical mistakes (defaults: right); the fractions in
    precision (float, np.float32 or a float32 tensor), off by a factor 1 + nudge."""
    theta = flat_params(params)
    for i in range(first, 11):
        fraction = precision(coef**i * (1 + nudge))
        if restore == "incremental":  # walks theta by differences, accumulating rounding errors
            set_flat_params(params, flat_params(params) + (fraction if i == first else -fraction) * full_step)
        else:
            set_flat_params(params, theta + fraction * full_step)
        with torch.no_grad():
            ok_kl = not check_kl or kl() <= max_kl
            ok_gain = not check_gain or surrogate_gain() > 0
        if ok_kl and ok_gain:
            return fraction
    if restore == "copy":
        set_flat_params(params, theta)
    elif restore == "incremental":
        set_flat_params(params, flat_params(params) - fraction * full_step)
    return 0.0


def float32_tensor(x):
    return torch.tensor(x, dtype=torch.float32)


@pytest.mark.parametrize("precision", [float, np.float32, float32_tensor])
def test_line_search_checker_accepts_right_answers(capsys, precision):
    assert check_line_search(lambda *args: search_variant(*args, precision=precision)).startswith("Correct")
    assert check_line_search(lambda *args: line_search(*args).step_fraction)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(("precision", "relative"),
                         [(float, 3e-8), (np.float32, 5e-5), (float32_tensor, 5e-5)])
def test_a_slightly_wrong_fraction_fails_with_two_different_numbers(precision, relative):
    with pytest.raises(ExerciseError) as error:
        check_line_search(lambda *args: search_variant(*args, precision=precision, nudge=relative))
    assert numbers_differ(str(error.value), "passing both tests is {n}, you returned {n}")


@pytest.mark.parametrize(
    ("mistake", "message"),
    [
        ({"check_kl": False}, "accepted a step with mean KL .* > max_kl"),
        ({"check_gain": False}, "accepted a step with surrogate gain .* <= 0"),
        ({"restore": "none"}, "restored bit for bit.*left them at the last step"),
        ({"restore": "incremental"}, r"not at theta \+ f \* full_step"),
        ({"first": 1}, "the first of 1, 0.8, 0.64, ... passing both tests is 1, you returned 0.8"),
        ({"first": 1, "precision": np.float32}, "passing both tests is 1, you returned 0.8"),
        # halving, as many texts do, is not the agent's line search
        ({"coef": 0.5}, r"the first of 1, 0.8, 0.64, ... passing both tests is 0.4096, you returned 0.25; .*"
                        "shrink it by alpha = BACKTRACK_COEF = 0.8"),
    ],
)
def test_line_search_checker_names_the_mistake(mistake, message):
    with pytest.raises(ExerciseError, match=message):
        check_line_search(lambda *args: search_variant(*args, **mistake))


def test_line_search_checker_rejects_giving_up_and_a_non_number():
    with pytest.raises(ExerciseError, match="but you returned 0.0"):
        check_line_search(lambda *args: 0.0)
    with pytest.raises(ExerciseError, match="as a float"):
        check_line_search(lambda *args: None)


# --- exercise 4, a derivation: iterations the condition-number bound needs ------------------------------


def test_cg_bound_iterations_by_counting(capsys):
    # Independent of the checker's logarithms: multiply the bound out until it reaches 1e-6.
    rate, k, bound = 9 / 11, 0, 2.0  # (sqrt(100) - 1) / (sqrt(100) + 1)
    while bound > 1e-6:
        k, bound = k + 1, bound * rate
    assert check_cg_bound_iterations(k).startswith("Correct")
    assert check_cg_bound_iterations(np.float32(k)).startswith("Correct")
    assert str(k) not in capsys.readouterr().out


@pytest.mark.parametrize(("got", "message"), [
    (72, "one short"),
    (72.3, "round the solution up"),
    (69, "dropped the factor 2"),
    (726, "steepest descent"),
    (84, "too large, by less than a factor of 2"),
])
def test_cg_bound_iterations_names_the_mistake_never_the_value(got, message):
    with pytest.raises(ExerciseError, match=message) as error:
        check_cg_bound_iterations(got)
    assert "73" not in str(error.value)
