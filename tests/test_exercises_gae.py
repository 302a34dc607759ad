"""The GAE checkers accept plain-loop answers (float64, float32, numpy) and name each typical mistake."""

import numpy as np
import pytest
import torch
from exercise_answers import nudged, numbers_differ

from trpo_lite.exercises import ExerciseError
from trpo_lite.exercises.gae import _batch, check_gae, check_td_residuals


def loop_td_residuals(rewards, values, next_values, terminated, gamma):
    """Reference answer written as a learner would: one entry at a time."""
    out = torch.zeros_like(rewards)
    for i in np.ndindex(*rewards.shape):
        bootstrap = 0.0 if terminated[i] else gamma * next_values[i]
        out[i] = rewards[i] + bootstrap - values[i]
    return out


def loop_gae(rewards, values, next_values, terminated, truncated, gamma, lam, *, cut=True, boot_trunc=True,
             coef=None, forwards=False):
    """Reference GAE by explicit backward loops; the keywords switch on the typical mistakes."""
    coef = gamma * lam if coef is None else coef
    squeeze = rewards.dim() == 1
    r, v, nv, term, trunc = (x.reshape(x.shape[0], -1) for x in (rewards, values, next_values, terminated,
                                                                 truncated))
    out = torch.zeros_like(r)
    steps = list(range(r.shape[0]))[:: 1 if forwards else -1]
    for n in range(r.shape[1]):
        running = 0.0
        for t in steps:
            ends = bool(term[t, n] or trunc[t, n])
            terminal = bool(term[t, n] or (trunc[t, n] and not boot_trunc))
            delta = r[t, n] + (0.0 if terminal else gamma * nv[t, n]) - v[t, n]
            running = delta + (0.0 if (cut and ends) else coef * running)
            out[t, n] = running
    return out[:, 0] if squeeze else out


def test_batch_has_an_episode_end_of_each_kind_inside_every_env():
    b = _batch(np.random.default_rng(3), 12, 5)
    assert b["rewards"].shape == (12, 5)
    assert (b["terminated"][:-1].sum(0) == 1).all() and (b["truncated"][:-1].sum(0) == 1).all()
    assert not (b["terminated"] & b["truncated"]).any()
    inside = ~(b["terminated"] | b["truncated"])[:-1]
    assert torch.equal(b["next_values"][:-1][inside], b["values"][1:][inside])


def float32_tensors(fn):
    """fn computing in float32: the float tensors it gets are rounded to float32 first (gamma, lam stay)."""
    return lambda *args: fn(*(x.float() if isinstance(x, torch.Tensor) and x.is_floating_point() else x
                              for x in args))


def test_td_residuals_checker_accepts_a_loop():
    assert check_td_residuals(loop_td_residuals).startswith("Correct")
    assert check_td_residuals(float32_tensors(loop_td_residuals)).startswith("Correct")
    assert check_td_residuals(lambda *args: loop_td_residuals(*args).numpy()).startswith("Correct")


@pytest.mark.parametrize(("answer", "relative"), [
    (loop_td_residuals, 3e-8), (float32_tensors(loop_td_residuals), 5e-5)])
def test_slightly_wrong_residuals_fail_with_two_different_numbers(answer, relative):
    with pytest.raises(ExerciseError) as error:
        check_td_residuals(nudged(answer, relative))
    assert numbers_differ(str(error.value), r"Delta\[[\d, ]+\] is {n}, expected {n}")


@pytest.mark.parametrize("wrong, message", [
    (lambda r, v, nv, term, g: r + g * nv - v, "bootstrapped through a terminal state"),
    (lambda r, v, nv, term, g: r + nv * ~term - v, "forgot the discount"),
    (lambda r, v, nv, term, g: v - r - g * nv * ~term, "sign is flipped"),
    (lambda r, v, nv, term, g: r + g * torch.cat([v[1:], nv[-1:]]) * ~term - v, "use next_values"),
    (lambda r, v, nv, term, g: (r + g * nv * ~term - v)[:, None], "has shape"),
    (lambda r, v, nv, term, g: r + g * nv * ~term - 0.5 * v, r"Delta\[9, 0\] is .* the latest wrong step"),
    (float32_tensors(lambda r, v, nv, term, g: r + g * nv - v), "bootstrapped through a terminal state"),
])
def test_td_residuals_checker_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_td_residuals(wrong)


def test_gae_checker_accepts_a_loop():
    assert check_gae(loop_gae).startswith("Correct")
    assert check_gae(float32_tensors(loop_gae)).startswith("Correct")
    assert check_gae(lambda *args: loop_gae(*args).numpy()).startswith("Correct")


@pytest.mark.parametrize(("answer", "relative"), [(loop_gae, 3e-8), (float32_tensors(loop_gae), 5e-5)])
def test_slightly_wrong_advantages_fail_with_two_different_numbers(answer, relative):
    with pytest.raises(ExerciseError) as error:
        check_gae(nudged(answer, relative))
    assert numbers_differ(str(error.value), r"advantages\[[\d, ]+\] is {n}, expected {n}")


@pytest.mark.parametrize("options, message", [
    ({"cut": False}, "runs across episode ends"),
    ({"boot_trunc": False}, "treated truncation as termination"),
    ({"coef": 0.9}, "uses gamma; it should use gamma \\* lam"),
    ({"forwards": True}, "forwards in time"),
])
@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_gae_checker_names_the_mistake(options, message, precision):
    def wrong(r, v, nv, term, trunc, gamma, lam):
        coef = gamma if "coef" in options else None
        return loop_gae(r, v, nv, term, trunc, gamma, lam, **{**options, "coef": coef})

    with pytest.raises(ExerciseError, match=message):
        check_gae(wrong if precision == "float64" else float32_tensors(wrong))


def test_gae_checker_names_cutting_only_at_terminations():
    def wrong(r, v, nv, term, trunc, gamma, lam):
        return loop_gae(r, v, nv, term, torch.zeros_like(trunc), gamma, lam)

    # forgetting truncated altogether also bootstraps right, so only the missing cut shows
    with pytest.raises(ExerciseError, match="only at terminations"):
        check_gae(wrong)


def test_gae_checker_reports_where_an_unknown_mistake_is():
    def wrong(r, v, nv, term, trunc, gamma, lam):
        out = loop_gae(r, v, nv, term, trunc, gamma, lam)
        out[5] += 1.0
        return out

    with pytest.raises(ExerciseError, match=r"advantages\[5, 0\] is .* expected"):
        check_gae(wrong)


def test_mistakes_really_differ_from_the_right_answer():
    # each parametrized mistake must change the numbers, or its test would prove nothing
    b = _batch(np.random.default_rng(0), 12, 4)
    args = (*b.values(), 0.9, 0.8)
    right = loop_gae(*args)
    for options in ({"cut": False}, {"boot_trunc": False}, {"coef": 0.9}, {"forwards": True}):
        assert not torch.allclose(loop_gae(*args, **options), right), options


def test_gae_checker_points_at_the_episode_end_for_an_off_by_one_cut():
    def wrong(r, v, nv, term, trunc, gamma, lam):
        # cuts the recursion one step too late: the end step still adds the next episode's A
        delta, done = loop_td_residuals(r, v, nv, term, gamma), term | trunc
        out, running = torch.zeros_like(r), torch.zeros_like(r[0])
        for t in reversed(range(r.shape[0])):
            late = done[t + 1] if t + 1 < r.shape[0] else torch.zeros_like(done[0])
            running = delta[t] + gamma * lam * running * ~late
            out[t] = running
        return out

    with pytest.raises(ExerciseError, match=r"latest wrong step .* where (terminated|truncated) is True"):
        check_gae(wrong)


def test_gae_checker_rejects_a_wrong_shape():
    with pytest.raises(ExerciseError, match="has shape"):
        check_gae(lambda *args: loop_gae(*args)[..., None])
