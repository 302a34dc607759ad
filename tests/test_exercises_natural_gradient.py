"""The notebook-05 checkers accept right answers written independently (float64, float32, torch, numpy)
and name typical mistakes."""

import numpy as np
import pytest
import torch
from exercise_answers import in_float32, nudged, numbers_differ

from trpo_lite.exercises._base import ExerciseError
from trpo_lite.exercises.natural_gradient import (
    check_fisher_vector_product,
    check_natural_step,
    check_rescaled_plain_kl,
)


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
    # the KL's graph is float64, so a float32 answer is a float64 product rounded, or the damping in float32
    assert check_fisher_vector_product(lambda *args: double_backprop(*args).float()).startswith("Correct")
    assert check_fisher_vector_product(lambda *args: double_backprop(*args).numpy()).startswith("Correct")
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(("answer", "relative"), [
    (double_backprop, 3e-8), (lambda *args: double_backprop(*args).float(), 5e-5)])
def test_a_slightly_wrong_product_fails_with_two_different_numbers(answer, relative):
    with pytest.raises(ExerciseError) as error:
        check_fisher_vector_product(nudged(answer, relative))
    assert numbers_differ(str(error.value), r"the product\[\d+\] should be {n}; yours is {n}")


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
        (damping_subtracted, r"H v \+ damping v with damping = 0.1: the product\[\d+\] should be"),
        (lambda *args: drops_damping(*args).float(), r"dropped the damping term: with damping = 0.1"),
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


def torch_step(g, H, max_kl):
    x = torch.linalg.solve(H, g)
    return torch.sqrt(2 * max_kl / (g @ x)) * x


def test_step_checker_accepts_float64_float32_and_torch_answers():
    assert check_natural_step(eigen_step).startswith("Correct")
    assert check_natural_step(in_float32(eigen_step)).startswith("Correct")
    assert check_natural_step(torch_step).startswith("Correct")
    assert check_natural_step(in_float32(torch_step)).startswith("Correct")


@pytest.mark.parametrize(("answer", "relative"), [
    (torch_step, 3e-8), (in_float32(torch_step), 5e-5), (in_float32(eigen_step), 5e-5)])
def test_a_slightly_wrong_step_fails_with_two_different_numbers(answer, relative):
    # along x, but too long: the message gives the model KL of the step and delta
    with pytest.raises(ExerciseError) as error:
        check_natural_step(nudged(answer, relative))
    assert numbers_differ(str(error.value), r"1/2 d\^T H d = {n}, .* = delta = {n}")


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
        (in_float32(lambda g, H, d: torch.sqrt(2 * d / (g @ g)) * _x(g, H)), "you used g\\^T g"),
    ],
)
def test_step_checker_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_natural_step(wrong)


# --- exercise 4, a derivation: the plain step's model KL when every parameter is tripled ----------------


def test_rescaled_plain_kl_is_the_quadratic_models_growth_on_a_real_problem(capsys):
    # Independent of the checker's arithmetic: the plain step in phi (theta = 3 phi) on a random H and g,
    # with autograd's gradient through the reparametrisation, against the step in theta.
    rng = np.random.default_rng(0)
    H = torch.as_tensor(rng.normal(size=(4, 4)))
    H = H @ H.T + torch.eye(4, dtype=torch.float64)
    g = torch.as_tensor(rng.normal(size=4))
    phi = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    (g_phi,) = torch.autograd.grad(g @ (3 * phi), phi)  # L(theta) = g^T theta, theta = 3 phi
    eta = 0.1
    d_theta, d_phi_mapped = eta * g, 3 * (eta * g_phi)
    factor = float(d_phi_mapped @ H @ d_phi_mapped / (d_theta @ H @ d_theta))
    assert check_rescaled_plain_kl(factor).startswith("Correct")
    assert check_rescaled_plain_kl(round(factor)) == check_rescaled_plain_kl(torch.tensor(factor))
    assert "81" not in capsys.readouterr().out


@pytest.mark.parametrize(("got", "message"), [
    (9, "how much longer the step gets"),
    (3, "grows by c twice"),
    (1 / 81, "the other way round"),
    (1, "holds for the natural step"),
    (27, "too small, by a factor between 2 and 10"),
])
def test_rescaled_plain_kl_names_the_mistake_never_the_value(got, message):
    with pytest.raises(ExerciseError, match=message) as error:
        check_rescaled_plain_kl(got)
    assert "81" not in str(error.value)
