"""The notebook-05 checkers accept right answers written independently and name typical mistakes."""

import numpy as np
import pytest
import torch

from trpo_lite.exercises._base import ExerciseError
from trpo_lite.exercises.natural_gradient import check_fisher_vector_product, check_natural_step


def _flat(tensors):
    return torch.cat([t.reshape(-1) for t in tensors])


def double_backprop(kl, params, v, damping):
    grads = torch.autograd.grad(kl, params, create_graph=True)
    hv = torch.autograd.grad(_flat(grads) @ v, params)
    return _flat(hv) + damping * v


def explicit_hessian_rows(kl, params, v, damping):
    # H formed row by row (one backward pass per parameter), then multiplied: slow but independent of E10.
    grad = _flat(torch.autograd.grad(kl, params, create_graph=True))
    H = torch.stack([_flat(torch.autograd.grad(row, params, retain_graph=True)) for row in grad])
    return H @ v + damping * v


def test_fvp_checker_accepts_double_backprop_and_an_explicit_hessian(capsys):
    assert check_fisher_vector_product(double_backprop).startswith("Correct")
    assert check_fisher_vector_product(explicit_hessian_rows).startswith("Correct")
    assert "Correct" in capsys.readouterr().out


def no_create_graph(kl, params, v, damping):
    grads = torch.autograd.grad(kl, params)
    return _flat(torch.autograd.grad(_flat(grads) @ v, params)) + damping * v


def returns_gradient(kl, params, v, damping):
    return _flat(torch.autograd.grad(kl, params))


def drops_damping(kl, params, v, damping):
    return double_backprop(kl, params, v, 0.0)


def returns_list(kl, params, v, damping):
    grads = torch.autograd.grad(kl, params, create_graph=True)
    return list(torch.autograd.grad(_flat(grads) @ v, params))


def damping_subtracted(kl, params, v, damping):
    return double_backprop(kl, params, v, -damping)


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (no_create_graph, "create_graph=True"),
        (returns_gradient, "you returned the gradient of the KL"),
        (drops_damping, r"dropped the damping term: with damping = 0.1"),
        (returns_list, "list of 2 tensors"),
        (lambda kl, params, v, damping: torch.zeros_like(v), "all zeros"),
        (lambda kl, params, v, damping: v[:-1], "shape"),
        (damping_subtracted, r"the product H v \+ damping v is wrong \(damping = 0.1\)"),
    ],
)
def test_fvp_checker_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_fisher_vector_product(wrong)


def eigen_step(g, H, max_kl):
    # Through the eigendecomposition H = Q diag(w) Q^T instead of a linear solve.
    w, Q = np.linalg.eigh(H.numpy())
    x = Q @ ((Q.T @ g.numpy()) / w)
    return np.sqrt(2 * max_kl / (g.numpy() @ x)) * x


def test_step_checker_accepts_an_eigendecomposition_answer():
    assert check_natural_step(eigen_step).startswith("Correct")


def _x(g, H):
    return torch.linalg.solve(H, g)


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda g, H, d: 2 * d / (g @ _x(g, H)) * _x(g, H), "missing the square root"),
        (lambda g, H, d: torch.sqrt(2 * d / (g @ g)) * _x(g, H), "you used g\\^T g"),
        (lambda g, H, d: torch.sqrt(d / (g @ _x(g, H))) * _x(g, H), "you forgot the factor 2"),
        (lambda g, H, d: torch.sqrt(2 * d / (g @ H @ g)) * g, "points along g, the plain gradient"),
        (lambda g, H, d: torch.sqrt(2 * d / (g @ H @ g)) * (H @ g), "multiplied by H instead of solving"),
        (lambda g, H, d: -torch.sqrt(2 * d / (g @ _x(g, H))) * _x(g, H), "downhill"),
        (lambda g, H, d: torch.sqrt(2 * d / (g @ _x(g, H))) * _x(g, H)[:2], "shape"),
        (lambda g, H, d: 0.5 * _x(g, H), "points the right way but its size is wrong"),
    ],
)
def test_step_checker_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_natural_step(wrong)
