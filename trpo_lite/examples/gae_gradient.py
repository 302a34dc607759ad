"""Notebook 07, section 4: which lambda the policy gradient wants, not which lambda each sample wants.

Section 3 scores GAE (E13) one sample at a time. The update uses the batch's
policy gradient g = mean_b grad log pi(a_b|s_b) A_b (E6); averaging over a
batch shrinks the variance of A_b but not its bias. Here the same FrozenLake
episodes (``examples.gae_study``) give, for a tabular softmax policy
(logits theta[s, a], so grad log pi(a|s) is 1[a = c] - pi(c|s) in row s):

* g_star: the gradient with the exact target Q^pi(s, a) - V_hat(s) at every
  sampled step (the gradient the update should follow);
* the gradient's bias for every lambda, exactly (``examples.gae.exact_gae_bias``
  at the sampled pairs) and sampled, and its variance per episode;
* the expected squared error of a batch of B episodes, |bias|^2 + variance / B.

Shapes: T time steps, N episodes, S states, A actions, L lambdas, K = S A gradient entries.
"""

import numpy as np

from trpo_lite import tabular
from trpo_lite._validate import grid_index
from trpo_lite.examples import gae as lake_gae
from trpo_lite.examples.frozen_lake import lake_mdp
from trpo_lite.examples.gae_study import BiasVarianceStudy


def episode_gradients(batch: lake_gae.EpisodeBatch, pi, weights) -> np.ndarray:
    """[N, K] each episode's sum_t grad log pi(a_t|s_t) w_t for the tabular softmax policy pi [S, A],
    divided by the mean episode length (so the mean over episodes is the per-sample mean of the batch)."""
    n_states, n_actions = np.shape(pi)
    n_episodes = batch.obs.shape[1]
    w = np.where(batch.valid, weights, 0.0)
    episode = np.broadcast_to(np.arange(n_episodes), batch.obs.shape)
    out = np.zeros((n_episodes, n_states, n_actions))
    np.add.at(out, (episode, batch.obs, batch.actions), w)  # the 1[a = c] part
    per_state = np.zeros((n_episodes, n_states))
    np.add.at(per_state, (episode, batch.obs), w)
    out -= per_state[:, :, None] * np.asarray(pi)[None]  # the - pi(c|s) part
    return out.reshape(n_episodes, -1) / batch.valid.sum(0).mean()


def gradient_study(study: BiasVarianceStudy, gamma: float) -> dict:
    """GAE's effect on the policy gradient at one gamma of the study, for every lambda of its grid.

    Returns a dict: lams [L]; g_star [K]; exact_bias, sampled_bias [L, K] (the mean error vector of the
    gradient, exactly and from the episodes); bias_se [L, K] its standard error; variance [L] the trace
    of the per-episode covariance; angle [L] degrees between g_star + exact bias and g_star; mse [L]
    the per-sample bias^2 + variance of section 3; mean_length, the episodes' mean length.
    """
    g = grid_index("gamma", gamma, study.gammas)
    batch, pi, v_hat = study.batch, study.pi, study.values_hat[g]
    mdp = lake_mdp(gamma)
    target = (tabular.action_values(mdp, pi) - v_hat[:, None])[batch.obs, batch.actions]
    g_star = episode_gradients(batch, pi, target).mean(0)
    rows = {"exact_bias": [], "sampled_bias": [], "bias_se": [], "variance": [], "angle": []}
    for lam in study.lams:
        error = episode_gradients(batch, pi, lake_gae.gae_on_batch(batch, v_hat, gamma, lam) - target)
        exact = episode_gradients(batch, pi, lake_gae.exact_gae_bias(mdp, pi, v_hat, lam)[batch.obs,
                                                                                           batch.actions])
        exact = exact.mean(0)
        expected = g_star + exact
        cosine = expected @ g_star / (np.linalg.norm(expected) * np.linalg.norm(g_star))
        rows["exact_bias"].append(exact)
        rows["sampled_bias"].append(error.mean(0))
        rows["bias_se"].append(error.std(0, ddof=1) / np.sqrt(len(error)))
        rows["variance"].append(error.var(0, ddof=1).sum())
        rows["angle"].append(np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0))))
    result = {name: np.array(values) for name, values in rows.items()}
    mse = study.bias2[g] + study.variance[g]
    return result | {"lams": np.array(study.lams), "g_star": g_star, "mse": mse,
                     "mean_length": float(batch.valid.sum(0).mean())}


def batch_error(gradients: dict, episodes) -> np.ndarray:
    """[len(episodes), L] expected |g_hat - g_star|^2 / |g_star|^2 of a batch of B episodes, for each B:
    the exact bias squared plus the per-episode variance over B (the episodes are independent)."""
    bias2 = (gradients["exact_bias"] ** 2).sum(1)
    scale = gradients["g_star"] @ gradients["g_star"]
    return np.array([(bias2 + gradients["variance"] / b) / scale for b in episodes])
