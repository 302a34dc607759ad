"""Running observation statistics against numpy over all the data at once."""

import numpy as np
import torch

from trpo_lite.normalize import RunningNorm


def test_merged_statistics_equal_those_of_the_concatenated_data():
    rng = np.random.default_rng(0)
    batches = [rng.normal(loc=[1.0, -5.0], scale=[0.1, 20.0], size=(n, 2)) for n in (7, 100, 1, 33)]
    norm = RunningNorm(2)
    for b in batches:
        norm.update(torch.tensor(b, dtype=torch.float32).reshape(1, -1, 2))  # any leading shape
    data = np.concatenate(batches).astype(np.float32).astype(np.float64)
    np.testing.assert_allclose(norm.mean.numpy(), data.mean(0), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(norm.var.numpy(), data.var(0), rtol=1e-9)
    assert norm.count == len(data)


def test_forward_standardises_clips_and_keeps_dtype():
    norm = RunningNorm(2, clip=3.0)
    norm.update(torch.tensor([[0.0, 10.0], [2.0, 30.0]]))  # mean (1, 20), std (1, 10)
    out = norm(torch.tensor([[1.0, 40.0], [1.0, 1000.0]]))
    assert out.dtype == torch.float32
    assert torch.allclose(out, torch.tensor([[0.0, 2.0], [0.0, 3.0]]), atol=1e-6)


def test_statistics_are_saved_in_the_state_dict():
    norm = RunningNorm(3)
    norm.update(torch.randn(10, 3))
    copy = RunningNorm(3)
    copy.load_state_dict(norm.state_dict())
    x = torch.randn(4, 3)
    assert torch.equal(copy(x), norm(x))
