"""Shared pieces of the exercise-checker tests: a learner's answer in float32 or torch, an answer nudged
just past the tolerance, and the check that a message prints two different numbers."""

import re

import numpy as np
import torch


def to_float32(x):
    """x with every float array, tensor or number in float32 (containers too); anything else unchanged."""
    if isinstance(x, torch.Tensor):
        return x.float() if x.is_floating_point() else x
    if isinstance(x, np.ndarray):
        return x.astype(np.float32) if x.dtype.kind == "f" else x
    if isinstance(x, float):
        return np.float32(x)
    if isinstance(x, list | tuple):
        return type(x)(to_float32(v) for v in x)
    return x


def to_torch(x):
    """x with every numpy array as a torch tensor (containers too), numbers unchanged."""
    if isinstance(x, np.ndarray):
        return torch.from_numpy(x)
    if isinstance(x, list | tuple):
        return type(x)(to_torch(v) for v in x)
    return x


def in_float32(fn):
    """The learner's fn computing in float32: its float inputs are rounded to float32 first."""
    return lambda *args: fn(*map(to_float32, args))


def in_torch(fn):
    """The learner's fn computing on torch tensors: its numpy inputs become tensors first."""
    return lambda *args: fn(*map(to_torch, args))


def scaled(got, factor: float):
    """got times factor, in got's own dtype (numbers, numpy, torch, and tuples or lists of them)."""
    if isinstance(got, tuple | list):
        return type(got)(scaled(x, factor) for x in got)
    if isinstance(got, np.ndarray | np.floating):
        return got * got.dtype.type(factor)
    return got * factor


def nudged(fn, relative: float):
    """fn with its answer scaled by (1 + relative): wrong by that much, in the answer's own dtype."""
    return lambda *args: scaled(fn(*args), 1 + relative)


NUMBER = r"(-?[\d.]+(?:e[-+]\d+)?|nan|inf)"


def numbers_differ(message: str, pattern: str) -> bool:
    """Whether message matches pattern (with two NUMBER groups) and the two numbers read differently."""
    match = re.search(pattern.format(n=NUMBER), message)
    assert match, f"{pattern!r} not in {message!r}"
    return match[1] != match[2]
