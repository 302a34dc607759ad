"""The notebook-10 checkers accept right answers written independently (torch, numpy, float32) and name
typical mistakes without printing the right answer."""

import numpy as np
import pytest
import torch
from exercise_answers import in_float32

from trpo_lite.exercises._base import ExerciseError
from trpo_lite.exercises.ppo import CASES, check_clip_edge_kl, check_clipped_surrogate


def by_loop(ratio, advantages, clip_range):
    """L^CLIP sample by sample in plain Python, from the formula."""
    terms = []
    for rho, a in zip(ratio.tolist(), advantages.tolist(), strict=True):
        clipped = min(max(rho, 1 - clip_range), 1 + clip_range)
        terms.append(min(rho * a, clipped * a))
    return sum(terms) / len(terms)


def by_numpy(ratio, advantages, clip_range):
    rho, a = ratio.numpy(), advantages.numpy()
    return np.mean(np.minimum(rho * a, np.clip(rho, 1 - clip_range, 1 + clip_range) * a))


def test_right_answers_pass(capsys):
    assert check_clipped_surrogate(by_loop).startswith("Correct")
    assert check_clipped_surrogate(by_numpy).startswith("Correct")
    assert check_clipped_surrogate(in_float32(lambda r, a, e: by_numpy(r, a, e))).startswith("Correct")
    assert "Correct" in capsys.readouterr().out


def variant(kind):
    def fn(ratio, advantages, eps):
        clipped = ratio.clamp(1 - eps, 1 + eps)
        return {"no clip": (ratio * advantages).mean(),
                "no min": (clipped * advantages).mean(),
                "max": torch.max(ratio * advantages, clipped * advantages).mean(),
                "product": (ratio * advantages).clamp(1 - eps, 1 + eps).mean(),
                "range": torch.min(ratio * advantages, ratio.clamp(-eps, eps) * advantages).mean(),
                "sum": torch.min(ratio * advantages, clipped * advantages).sum(),
                "typo": torch.min(ratio * advantages, clipped * advantages).mean() + 0.01}[kind]
    return fn


@pytest.mark.parametrize(("kind", "message"), [
    ("no clip", "you left out the clip"),
    ("no min", "you dropped the min"),
    ("max", "you took the larger"),
    ("product", "you clipped the product"),
    ("range", "around rho = 1"),
    ("sum", "a mean over the batch"),
    ("typo", "L\\^CLIP should be"),
])
def test_mistakes_are_named(kind, message):
    with pytest.raises(ExerciseError, match=message):
        check_clipped_surrogate(variant(kind))


def test_every_mistake_gives_its_own_number_in_every_case():
    for ratios, advantages, eps in CASES:
        rho, A = torch.tensor(ratios, dtype=torch.float64), torch.tensor(advantages, dtype=torch.float64)
        values = [float(variant(kind)(rho, A, eps)) for kind in ("no clip", "no min", "max", "product",
                                                                 "range", "sum")]
        values.append(by_loop(rho, A, eps))
        assert min(abs(x - y) for i, x in enumerate(values) for y in values[i + 1:]) > 1e-3, values


def test_a_wrong_kl_is_named_and_the_right_one_is_not_printed(capsys):
    right = 0.5 * np.log(0.5 / 0.6) + 0.5 * np.log(0.5 / 0.4)
    assert check_clip_edge_kl(round(right, 5)).startswith("Correct")
    for wrong, message in [(0.6 * np.log(1.2) + 0.4 * np.log(0.8), "π_old first"),
                           (right / np.log(2), "bits"), (0.02, "quadratic approximation"),
                           (0.5 * np.log(0.5 / 0.6), "wrong sign"), (0.03, "too large")]:
        with pytest.raises(ExerciseError, match=message) as error:
            check_clip_edge_kl(wrong)
        assert f"{right:.4f}"[:6] not in str(error.value) and "0.0204" not in str(error.value)
