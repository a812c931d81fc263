"""Tropical adversarial attack: flip a prediction by moving the decision boundary (reference §2(c)).

The coupled problem attributed to Alfarra et al. (arXiv:2002.08838) for a net whose first layer is
A (p, d), c1 (p,) followed by g(z) = head(max(z + c1, 0)) (for the shallow net g(z) = B max(z + c1,
0) + c2):

    min_{eta, A~}  1/2 ||eta||_2^2 + lam/2 ||A~ - A||_F^2
    s.t.  g(A (x0 + eta)) and g(A~ x0) are classified as the target (margin >= kappa),
          x0 + eta in [lo, hi]^d,   ||eta||_inf <= eps1,   ||A~ - A||_max <= eps2,
          A (x0 + eta) = A~ x0.

A~ x0 = A (x0 + eta) means the perturbed *weights* A~ move the boundary across x0 exactly as the
input perturbation eta moves x0 across the boundary: the generators Diag[...] A~ of the dual
polytope move and x0 changes side.

The reference marks the constraint form ("-loss <= -1") and the solver (ADMM) as recalled [R].
Our sound reading, stated on the page:

* the two loss constraints become the margin m(x) >= kappa (untargeted: max_{i != y0} f_i - f_y0;
  targeted: f_t - max_{i != t} f_i). Under the coupling g(A~ x0) = f(x0 + eta), so the second is
  implied by the first; it is enforced through the coupling and checked at the end;
* scaled-form ADMM on the split  A eta - Delta x0 = 0 (Delta = A~ - A) with dual u:
  eta-step: projected gradient steps on 1/2||eta||^2 + mu hinge(kappa - m(x0 + eta))
            + rho/2 ||A eta - Delta x0 + u||^2 over the box of the eta-constraints (exact projection);
  Delta-step: exact, row by row: min lam/2 ||delta||^2 + rho/2 (delta . x0 - v_r)^2, ||delta||_inf <= eps2,
            solved as delta = clip(tau x0, +-eps2) with tau found by bisection (KKT, monotone);
  u-step: u += A eta - Delta x0; the hinge weight mu doubles while the margin is unmet (penalty
  continuation, as in Carlini-Wagner).
* At the end A~ is recomputed as the minimum-norm Delta with Delta x0 = A eta exactly under the
  eps2 bound (infeasible -> the attack fails). **A success is never taken from the solver's
  word**: it is reported only if evaluating the network gives the required class at x0 + eta and
  for the net with A~ at x0, and every constraint holds (checked numerically).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ._checks import short as _short
import torch

from .net import ShallowReluNet

__all__ = ["TropicalAttackResult", "tropical_attack", "pgd_min_radius", "margin", "split_first_layer",
           "default_attack_point"]


def margin(logits: np.ndarray, label: int, target: int | None) -> np.ndarray:
    """Attack margin for logits (n, k): untargeted max_{i != label} f_i - f_label; targeted f_t - max_{i != t} f_i.

    Positive means the attack goal is met.
    """
    L = np.atleast_2d(logits)
    if target is None:
        other = np.delete(L, label, axis=1).max(axis=1)
        return other - L[:, label]
    other = np.delete(L, target, axis=1).max(axis=1)
    return L[:, target] - other


@dataclass
class TropicalAttackResult:
    """Outcome of :func:`tropical_attack`; every field was computed by evaluating the network.

    success : True only if x0 + eta and the net with A~ at x0 both reach the goal and every
        constraint holds; label0 / label_adv / label_tilde : class at x0, at x0 + eta, and of the
        A~-net at x0; eta (d,); A_tilde (p, d); net_tilde : the net with A~ (None for torch heads);
        norm_l2, norm_linf : of eta; weight_change : ||A~ - A||_max; coupling_residual :
        ||A(x0 + eta) - A~ x0||_inf; constraints_ok : box, eps1, eps2 and coupling all hold;
        history : per-iteration dicts (iter, objective, residual, margin, mu); message : why.
    """

    success: bool
    label0: int
    label_adv: int
    label_tilde: int
    target: int | None
    x0: np.ndarray
    eta: np.ndarray
    A_tilde: np.ndarray
    norm_l2: float
    norm_linf: float
    weight_change: float
    coupling_residual: float
    constraints_ok: bool
    net_tilde: ShallowReluNet | None = None
    history: list[dict] = field(default_factory=list)
    message: str = ""

    @property
    def x_adv(self) -> np.ndarray:
        """The adversarial input x0 + eta (d,)."""
        return self.x0 + self.eta


def _row_delta(v: np.ndarray, x0: np.ndarray, eps2: float, lam: float, rho: float) -> np.ndarray:
    """Exact Delta-step: argmin_delta lam/2 |delta|^2 + rho/2 (delta.x0 - v_r)^2, |delta|_inf <= eps2, per row.

    KKT: delta = clip(tau x0, -eps2, eps2) with tau = rho (v - delta.x0) / lam; the map
    tau -> tau - rho (v - clip(tau x0).x0) / lam is increasing, so bisection finds the root,
    which lies between 0 and rho v / lam.
    """
    lo = np.minimum(0.0, rho * v / lam)
    hi = np.maximum(0.0, rho * v / lam)
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        d = np.clip(mid[:, None] * x0[None, :], -eps2, eps2)
        h = mid - rho * (v - d @ x0) / lam
        lo = np.where(h < 0, mid, lo)
        hi = np.where(h < 0, hi, mid)
    tau = 0.5 * (lo + hi)
    return np.clip(tau[:, None] * x0[None, :], -eps2, eps2)


def _exact_delta(v: np.ndarray, x0: np.ndarray, eps2: float) -> tuple[np.ndarray, bool]:
    """Minimum-norm Delta with Delta x0 = v exactly and |Delta|_max <= eps2 (row-wise), if feasible.

    Row r: delta = clip(tau x0, +-eps2) (KKT of min |delta|^2 s.t. delta.x0 = v_r), with
    clip(tau x0).x0 increasing in tau up to eps2 |x0|_1; feasible iff |v_r| <= eps2 |x0|_1.
    """
    cap = eps2 * np.abs(x0).sum()
    feasible = bool(np.all(np.abs(v) <= cap * (1 + 1e-12) + 1e-15))
    v = np.clip(v, -cap, cap)
    nx = float(x0 @ x0)
    if nx == 0:
        return np.zeros((len(v), len(x0))), feasible and bool(np.all(v == 0))
    lo = np.full(len(v), -1.0)
    hi = np.full(len(v), 1.0)
    # bracket: |tau| <= max(|v| / |x0|^2, eps2 / min nonzero |x0_i|) reaches the target or the cap
    big = np.abs(v) / nx + eps2 / np.abs(x0[x0 != 0]).min() + 1.0
    lo, hi = -big, big
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        s = np.clip(mid[:, None] * x0[None, :], -eps2, eps2) @ x0
        lo = np.where(s < v, mid, lo)
        hi = np.where(s < v, hi, mid)
    D = np.clip((0.5 * (lo + hi))[:, None] * x0[None, :], -eps2, eps2)
    # remove the last bisection error along x0 within the box (tiny, keeps |D|_max <= eps2)
    resid = v - D @ x0
    free = np.abs(D) < eps2
    denom = (free * x0[None, :] ** 2).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = np.where(denom > 0, resid / denom, 0.0)
    D = np.clip(D + free * corr[:, None] * x0[None, :], -eps2, eps2)
    return D, feasible


def _shallow_head(net: ShallowReluNet) -> Callable[[torch.Tensor], torch.Tensor]:
    B = torch.tensor(net.B)
    c1 = torch.tensor(net.c1)
    c2 = torch.tensor(net.c2)
    return lambda Z: torch.relu(Z + c1) @ B.T + c2


def split_first_layer(model: torch.nn.Module) -> tuple[np.ndarray, Callable[[torch.Tensor], torch.Tensor]]:
    """Split a ``DigitsMLP``-like model into its first layer A (p, d) and the rest as ``head(Z)``.

    The model must have ``body = Sequential(Flatten, Linear, ReLU)`` and a ``head`` module (as
    ``robustcore.nets.DigitsMLP``). Returns (A, head) with head(Z) = model.head(ReLU(Z + c1)) in
    float64 on flattened inputs, so ``tropical_attack(None, x0, head=head, A=A)`` attacks the
    whole network with the coupling on its first layer.
    """
    if not isinstance(model, torch.nn.Module):
        from ._checks import ArgumentTypeError

        raise ArgumentTypeError(f"split_first_layer needs a torch module (a DigitsMLP); got {type(model).__name__}.")
    body = getattr(model, "body", None)
    lin = [m for m in (body or []) if isinstance(m, torch.nn.Linear)] if body is not None else []
    if body is None or len(lin) != 1 or not hasattr(model, "head"):
        raise ValueError("split_first_layer needs a model with body = (Flatten, Linear, ReLU) and a head (a DigitsMLP).")
    import copy

    head_mod = copy.deepcopy(model.head).double().eval()
    A = lin[0].weight.detach().double().numpy().copy()
    c1 = lin[0].bias.detach().double().clone() if lin[0].bias is not None else torch.zeros(A.shape[0], dtype=torch.float64)
    for prm in head_mod.parameters():
        prm.requires_grad_(False)
    return A, (lambda Z: head_mod(torch.relu(Z + c1)))


def tropical_attack(
    net: ShallowReluNet,
    x0: np.ndarray,
    target: int | None = None,
    eps1: float = 0.5,
    eps2: float = 0.5,
    lam: float = 1.0,
    rho: float = 1.0,
    box: tuple[float, float] | None = (0.0, 1.0),
    kappa: float = 1e-3,
    iters: int = 300,
    inner: int = 10,
    mu0: float = 0.1,
    head: Callable[[torch.Tensor], torch.Tensor] | None = None,
    A: np.ndarray | None = None,
    patience: int = 40,
) -> TropicalAttackResult:
    """Tropical attack at x0 by ADMM on the coupled (eta, A~) problem of the module docstring.

    Parameters
    ----------
    net : the ShallowReluNet f(x) = B max(Ax + c1, 0) + c2 (or None with ``head`` and ``A``).
    x0 : (d,) the point to attack.
    target : class to reach, or None for any class other than the prediction at x0.
    eps1 : l-inf bound on eta (input units); eps2 : bound on |A~ - A|_max (weight units).
    lam : weight of lam/2 ||A~ - A||_F^2; rho : ADMM penalty.
    box : valid input range [lo, hi] per coordinate, or None (unbounded toy data).
    kappa : required margin (> 0 so that float rounding cannot flip the verified class back).
    iters, inner : ADMM iterations and projected gradient steps per eta-step.
    mu0 : initial weight of the margin hinge (doubled every 5 iterations while unmet).
    patience : stop once a feasible candidate exists and none better (by 0.01 %) came for this many
        iterations.
    head, A : for nets beyond ShallowReluNet: ``head(Z)`` maps pre-activations Z = x A^T (n, p)
        to logits (float64 torch, c1 included), and A (p, d) is the first layer.

    Returns
    -------
    TropicalAttackResult; ``success`` is verified by evaluating the network.
    """
    from ._checks import ArgumentTypeError, MAX_ITERS, as_array, as_float, as_int

    head_is_shallow = head is None
    if head is None:
        if not isinstance(net, ShallowReluNet):
            raise ArgumentTypeError(f"tropical_attack needs a ShallowReluNet (or head and A); got {type(net).__name__}.")
        A = net.A
        head = _shallow_head(net)
    elif not callable(head):
        raise ArgumentTypeError("head must be a callable mapping pre-activations (n, p) to logits.")
    elif A is None:
        raise ValueError("A custom head needs the first-layer weights A (p, d).")
    A = as_array("A", A, 2)
    p, d = A.shape
    if p == 0 or d == 0:
        raise ValueError(f"A must have at least one row and one column; got shape {A.shape}.")
    x0 = as_array("x0", x0).reshape(-1)
    if x0.shape != (d,):
        raise ValueError(f"x0 must be a finite vector of length {d}; got shape {x0.shape}.")
    eps1 = as_float("eps1", eps1, 0.0, lo_open=True)
    eps2 = as_float("eps2", eps2, 0.0, lo_open=True)
    lam = as_float("lam", lam, 0.0, lo_open=True)
    rho = as_float("rho", rho, 0.0, lo_open=True)
    kappa = as_float("kappa", kappa, 0.0)
    mu0 = as_float("mu0", mu0, 0.0, lo_open=True)
    iters = as_int("iters", iters, 0, MAX_ITERS)
    inner = as_int("inner", inner, 1, 1000)
    patience = as_int("patience", patience, 0, MAX_ITERS)
    if iters * inner * p * d > 5e9:
        raise ValueError("iters * inner * p * d exceeds 5e9; lower iters or inner.")
    if target is not None:
        target = as_int("target", target)
    if box is not None:
        if isinstance(box, (str, bytes)) or not hasattr(box, "__len__") or len(box) != 2:
            raise ValueError("box must be a pair (lo, hi) or None.")
        lo_b, hi_b = as_float("box lo", box[0]), as_float("box hi", box[1])
        if not lo_b < hi_b:
            raise ValueError(f"box must satisfy lo < hi; got {box}.")
        if np.any(x0 < lo_b) or np.any(x0 > hi_b):
            raise ValueError(f"x0 lies outside the input box [{lo_b}, {hi_b}].")

    def logits(X: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return head(torch.as_tensor(np.atleast_2d(X) @ A.T)).numpy()

    def logits_tilde(At: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return head(torch.as_tensor((At @ x0)[None, :])).numpy()

    k = logits(x0).shape[1]
    label0 = int(np.argmax(logits(x0)[0]))
    if target is not None:
        target = int(target)
        if not 0 <= target < k:
            raise ValueError(f"target must be a class in 0..{k - 1}; got {target}.")
        if target == label0:
            raise ValueError(f"x0 is already classified as the target class {target}.")

    # eta-constraints: x0 + eta in box and |eta|_inf <= eps1 -> one box [e_lo, e_hi]
    e_lo = np.full(d, -eps1)
    e_hi = np.full(d, eps1)
    if box is not None:
        e_lo = np.maximum(e_lo, lo_b - x0)
        e_hi = np.minimum(e_hi, hi_b - x0)
    A_t = torch.tensor(A)
    x0_t = torch.tensor(x0)

    shallow = isinstance(net, ShallowReluNet) and head_is_shallow

    def margin_grad(eta: np.ndarray) -> tuple[float, np.ndarray]:
        """Margin m(x0 + eta) and its gradient in eta (numpy closed form for the shallow net)."""
        if shallow:
            x = x0 + eta
            act = (A @ x + net.c1) > 0
            out = net.B @ (np.maximum(A @ x + net.c1, 0.0)) + net.c2
            if target is None:
                others = np.delete(np.arange(k), label0)
                i_top, i_low = int(others[np.argmax(out[others])]), label0
            else:
                others = np.delete(np.arange(k), target)
                i_top, i_low = target, int(others[np.argmax(out[others])])
            wdiff = (net.B[i_top] - net.B[i_low]) * act
            return float(out[i_top] - out[i_low]), wdiff @ A
        e = torch.tensor(eta, requires_grad=True)
        out = head(((x0_t + e) @ A_t.T)[None, :])[0]
        mask = torch.ones(k, dtype=torch.bool)
        if target is None:
            mask[label0] = False
            m = out[mask].max() - out[label0]
        else:
            mask[target] = False
            m = out[target] - out[mask].max()
        (g,) = torch.autograd.grad(m, e)
        return float(m.detach()), g.numpy()

    cap = eps2 * float(np.abs(x0).sum())  # A eta is realisable by some A~ iff |A eta|_inf <= eps2 |x0|_1

    def true_objective(eta: np.ndarray) -> float | None:
        """Objective with the exact minimum-norm A~ for this eta, or None if infeasible/unmet."""
        if np.abs(A @ eta).max() > cap:
            return None
        D, feasible = _exact_delta(A @ eta, x0, eps2)
        if not feasible:
            return None
        return 0.5 * float(eta @ eta) + 0.5 * lam * float((D**2).sum())

    eta = np.zeros(d)
    Delta = np.zeros((p, d))
    u = np.zeros(p)
    mu = float(mu0)
    L_eta = 1.0 + rho * float(np.linalg.norm(A, 2) ** 2)
    history: list[dict] = []
    best: tuple[float, np.ndarray] | None = None
    margin_met = False
    since_improved = 0
    for it in range(int(iters)):
        # eta-step: projected gradient on the smooth part plus the hinge's (sub)gradient
        c = -Delta @ x0 + u
        for _ in range(int(inner)):
            m, g = margin_grad(eta)
            grad = eta + rho * A.T @ (A @ eta + c)
            if m < kappa:
                grad = grad - mu * g
            eta = np.clip(eta - grad / (L_eta + mu * float(g @ g) ** 0.5), e_lo, e_hi)
        # Delta-step (exact) and dual update
        Delta = _row_delta(A @ eta + u, x0, eps2, lam, rho)
        r = A @ eta - Delta @ x0
        u = u + r
        m, _ = margin_grad(eta)
        if m < kappa and it % 5 == 4:
            mu *= 2.0
        obj = 0.5 * float(eta @ eta) + 0.5 * lam * float((Delta**2).sum())
        history.append({"iter": it, "objective": obj, "residual": float(np.abs(r).max()), "margin": m, "mu": mu})
        if m >= kappa:
            margin_met = True
            # a candidate: keep the smallest true objective among margin-meeting, realisable iterates
            f = true_objective(eta)
            if f is not None and (best is None or f < best[0] * (1 - 1e-4)):
                best = (f, eta.copy())
                since_improved = 0
        since_improved += 1
        if best is not None and since_improved > patience:
            break  # no better verified-feasible candidate for ``patience`` iterations
    if best is not None:
        # polish along the ray: the smallest scaling s in (0, 1] of eta that still meets the margin
        # (the objective is increasing in s, and every scaled point stays inside all the boxes)
        lo_s, hi_s = 0.0, 1.0
        for _ in range(30):
            mid = 0.5 * (lo_s + hi_s)
            if margin_grad(mid * best[1])[0] >= kappa and true_objective(mid * best[1]) is not None:
                hi_s = mid
            else:
                lo_s = mid
        best = (best[0], hi_s * best[1])
    eta_final = best[1] if best is not None else eta
    return _verify(net if isinstance(net, ShallowReluNet) else None, A, x0, eta_final, target, label0,
                   eps1, eps2, box, kappa, logits, logits_tilde, history, margin_met)


def _verify(net, A, x0, eta, target, label0, eps1, eps2, box, kappa, logits, logits_tilde, history, found):
    """Evaluate the network and every constraint; the only place ``success`` is decided."""
    D, feasible = _exact_delta(A @ eta, x0, eps2)
    A_tilde = A + D
    lab_adv = int(np.argmax(logits(x0 + eta)[0]))
    lab_tilde = int(np.argmax(logits_tilde(A_tilde)[0]))
    goal = (lambda lab: lab != label0) if target is None else (lambda lab: lab == target)
    scale = 1.0 + float(np.abs(A @ (x0 + eta)).max())
    resid = float(np.abs(A @ (x0 + eta) - A_tilde @ x0).max())
    ok_eta = bool(np.abs(eta).max() <= eps1 * (1 + 1e-12))
    ok_box = box is None or bool(np.all(x0 + eta >= box[0] - 1e-12) and np.all(x0 + eta <= box[1] + 1e-12))
    ok_w = bool(np.abs(D).max(initial=0.0) <= eps2 * (1 + 1e-12))
    ok_c = feasible and resid <= 1e-9 * scale
    constraints_ok = ok_eta and ok_box and ok_w and ok_c
    success = bool(goal(lab_adv) and goal(lab_tilde) and constraints_ok)
    if success:
        msg = f"class {label0} -> {lab_adv}, verified at x0 + eta and for A~ at x0."
    elif not found:
        msg = "the margin was never met within the budget (try a larger eps1 or more iterations)."
    elif not feasible or not goal(lab_adv):
        msg = (f"eta can flip the class but no A~ with |A~ - A|_max <= {eps2:g} realises A~ x0 = A(x0 + eta) "
               "(try a larger eps2).")
    else:
        msg = "verification failed: the network does not give the goal class (numerical edge case)."
    net_tilde = None
    if net is not None:
        net_tilde = ShallowReluNet(A_tilde, net.c1, net.B, net.c2)
    return TropicalAttackResult(
        success, label0, lab_adv, lab_tilde, target, x0, eta, A_tilde,
        float(np.linalg.norm(eta)), float(np.abs(eta).max(initial=0.0)), float(np.abs(D).max(initial=0.0)),
        resid, constraints_ok, net_tilde, history, msg,
    )


def pgd_min_radius(
    net: ShallowReluNet | torch.nn.Module,
    x0: np.ndarray,
    eps_max: float,
    norm: str = "linf",
    box: tuple[float, float] | None = (0.0, 1.0),
    steps: int = 30,
    bisect_steps: int = 10,
    seed: int = 0,
) -> dict[str, float | bool | np.ndarray]:
    """Smallest radius (``norm`` "linf" or "l2") at which plain PGD (``robustcore.attacks.pgd_attack``) flips f at x0.

    ``net`` is a ShallowReluNet or a torch module on flat (1, d) inputs (e.g. a DigitsMLP).
    Bisection on eps in (0, eps_max]: at each eps PGD runs on a float64 copy of the model, and a
    success is counted only if the network's prediction at the returned point differs from the
    prediction at x0. Returns {"success", "eps", "x_adv", "norm_l2", "norm_linf"} for the smallest
    successful radius found (PGD is a heuristic: the true minimum may be smaller).
    """
    from robustcore.attacks import pgd_attack

    from ._checks import ArgumentTypeError, as_array, as_float, as_int

    x0 = as_array("x0", x0).reshape(-1)
    eps_max = as_float("eps_max", eps_max, 0.0, lo_open=True)
    if not isinstance(norm, str) or norm not in ("linf", "l2"):
        raise ValueError(f"norm must be 'linf' or 'l2'; got {_short(norm)}.")
    steps = as_int("steps", steps, 1, 10_000)
    bisect_steps = as_int("bisect_steps", bisect_steps, 0, 100)
    seed = as_int("seed", seed, 0, 2**63 - 1)
    if box is not None:
        if isinstance(box, (str, bytes)) or not hasattr(box, "__len__") or len(box) != 2:
            raise ValueError("box must be a pair (lo, hi) or None.")
        box = (as_float("box lo", box[0]), as_float("box hi", box[1]))
        if not box[0] < box[1]:
            raise ValueError(f"box must satisfy lo < hi; got {box}.")
    if isinstance(net, ShallowReluNet):
        model = net.to_torch(torch.float64)

        def predict(x: np.ndarray) -> int:
            return int(net.predict(x)[0])
    elif isinstance(net, torch.nn.Module):
        import copy

        model = copy.deepcopy(net).double().eval()

        def predict(x: np.ndarray) -> int:
            with torch.no_grad():
                return int(model(torch.as_tensor(x)[None, :]).argmax(1)[0])
    else:
        raise ArgumentTypeError(f"pgd_min_radius needs a ShallowReluNet or a torch module; got {type(net).__name__}.")
    if isinstance(net, ShallowReluNet) and x0.shape != (net.d,):
        raise ValueError(f"x0 must have {net.d} entries; got shape {x0.shape}.")
    if box is not None and (np.any(x0 < box[0]) or np.any(x0 > box[1])):
        raise ValueError(f"x0 lies outside the input box [{box[0]}, {box[1]}].")
    try:
        label0 = predict(x0)
    except RuntimeError as exc:
        raise ValueError(f"x0 does not fit the model's input ({exc}).") from exc
    xt = torch.as_tensor(x0)[None, :]
    yt = torch.tensor([label0])
    clamp = None if box is None else (float(box[0]), float(box[1]))

    def attempt(eps: float) -> np.ndarray | None:
        gen = torch.Generator().manual_seed(seed)
        xa = pgd_attack(model, xt, yt, eps, norm=norm, steps=steps, clamp=clamp, generator=gen)[0].numpy()
        return xa if predict(xa) != label0 else None

    found = attempt(eps_max)
    if found is None:
        return {"success": False, "eps": float("nan"), "x_adv": x0.copy(), "norm_l2": float("nan"),
                "norm_linf": float("nan")}
    lo, hi, best = 0.0, float(eps_max), found
    for _ in range(bisect_steps):
        mid = 0.5 * (lo + hi)
        xa = attempt(mid)
        if xa is None:
            lo = mid
        else:
            hi, best = mid, xa
    diff = best - x0
    return {"success": True, "eps": hi, "x_adv": best, "norm_l2": float(np.linalg.norm(diff)),
            "norm_linf": float(np.abs(diff).max())}


def default_attack_point(net: ShallowReluNet, X: np.ndarray, eps1: float = 1.0, eps2: float = 1.0,
                         box: tuple[float, float] | None = None, tries: int = 8, iters: int = 200) -> int:
    """Index of a point of X on which the tropical attack is *shown working* (a verified success).

    Candidates are points near the decision boundary (local distance estimate margin / ||grad||_1, ties
    excluded), taken from the 10th percentile upwards, preferring points far from the origin (the weight
    budget eps2 |x0|_1 of the coupling A~ x0 = A (x0 + eta) grows with |x0|_1). Up to ``tries`` of them are
    attacked; the first verified success is returned, else the first candidate.
    """
    from ._checks import as_array, as_float, as_int, check_net

    check_net(net, "default_attack_point")
    X = as_array("X", X, 2)
    if X.shape[1] != net.d or len(X) == 0:
        raise ValueError(f"X must be a non-empty (n, {net.d}) array; got shape {X.shape}.")
    eps1, eps2 = as_float("eps1", eps1, 0.0, lo_open=True), as_float("eps2", eps2, 0.0, lo_open=True)
    tries = as_int("tries", tries, 1, 50)
    L = net.logits(X)
    srt = np.sort(L, axis=1)
    gap = srt[:, -1] - srt[:, -2]
    live = np.flatnonzero(gap > 1e-9 * (np.abs(L).max() + 1e-300))
    if box is not None:
        live = live[np.all((X[live] >= box[0]) & (X[live] <= box[1]), axis=1)]
    if len(live) == 0:
        return 0
    # local l-inf distance to the boundary: gap / ||grad of the gap||_1 at each point
    act = (X[live] @ net.A.T + net.c1) > 0
    top = np.argsort(L[live], axis=1)
    W = net.B[top[:, -1]] - net.B[top[:, -2]]  # (n, p)
    grad = (W * act) @ net.A
    dist = gap[live] / np.maximum(np.abs(grad).sum(axis=1), 1e-300)
    reach = dist < 0.8 * eps1
    far = np.abs(X[live]).sum(axis=1)
    # reachable points first, far from the origin first among them; then the rest by their distance estimate
    order = np.concatenate([live[reach][np.argsort(-far[reach])], live[~reach][np.argsort(dist[~reach])]])
    cands = [int(c) for c in order[:tries]]
    for c in cands:
        res = tropical_attack(net, X[c], eps1=eps1, eps2=eps2, box=box, iters=iters)
        if res.success:
            return c
    return cands[0]
