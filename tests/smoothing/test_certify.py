"""Tests of Cohen PREDICT / CERTIFY and the Clopper-Pearson bounds (reference: ddrs.md §1.7, §7)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.optimize import brentq
from scipy.special import gammaln, logsumexp
from scipy.stats import binom, binomtest, norm

from robustcore.smoothing import (
    ABSTAIN,
    Smooth,
    clopper_pearson_lower,
    clopper_pearson_lower_tail,
    clopper_pearson_upper,
    cohen_radius,
    radius_cap,
)

# ddrs.md §1.7, alpha = 1e-3, computed there with scipy to ~1e-12.
REFERENCE = [
    (100_000, 100_000, 0.9999309248),
    (100_000, 99_000, 0.98898934),
    (100_000, 50_500, 0.50010895),
    (100, 100, 0.93325430),
    (1000, 990, 0.97603619),
]


def _binomial_upper_tail(k: int, n: int, p: float) -> float:
    """P(Bin(n, p) >= k) summed term by term in log space (independent of scipy's beta code)."""
    j = np.arange(k, n + 1, dtype=np.float64)
    logpmf = gammaln(n + 1) - gammaln(j + 1) - gammaln(n - j + 1) + j * math.log(p) + (n - j) * math.log1p(-p)
    return float(np.exp(logsumexp(logpmf)))


def _cp_lower_by_definition(k: int, n: int, alpha: float) -> float:
    """Clopper-Pearson lower bound from its definition: the p with P(Bin(n, p) >= k) = alpha."""
    return brentq(lambda p: _binomial_upper_tail(k, n, p) - alpha, 1e-12, 1 - 1e-15, xtol=1e-15, rtol=1e-13)


@pytest.mark.parametrize("n,k,expected", REFERENCE)
def test_clopper_pearson_reference_values(n, k, expected):
    assert clopper_pearson_lower(k, n, 1e-3) == pytest.approx(expected, abs=1e-8)


@pytest.mark.parametrize("n,k,_", REFERENCE + [(50, 30, None), (1000, 1, None), (7, 3, None)])
def test_clopper_pearson_independent_computations(n, k, _):
    alpha = 1e-3
    lo = clopper_pearson_lower(k, n, alpha)
    # scipy's exact binomial interval at level 1 - 2 alpha has the same lower end
    assert lo == pytest.approx(binomtest(k, n).proportion_ci(1 - 2 * alpha, method="exact").low, abs=1e-10)
    # the definition, solved with a term-by-term binomial tail
    assert lo == pytest.approx(_cp_lower_by_definition(k, n, alpha), rel=1e-8)
    # the tail is 1 - lower, computed without cancellation
    assert clopper_pearson_lower_tail(k, n, alpha) == pytest.approx(1 - lo, rel=1e-9, abs=1e-15)
    # the upper bound is the mirrored lower bound, and is exact by its own definition P(Bin <= k) = alpha
    up = clopper_pearson_upper(k, n, alpha)
    if k < n:
        assert binom.cdf(k, n, up) == pytest.approx(alpha, rel=1e-6)


def test_clopper_pearson_edge_cases_and_tail_accuracy():
    assert clopper_pearson_lower(0, 10, 0.01) == 0.0
    assert clopper_pearson_lower_tail(0, 10, 0.01) == 1.0
    assert clopper_pearson_upper(10, 10, 0.01) == 1.0
    # all votes: closed form alpha^(1/n); the tail 1 - alpha^(1/n) = -expm1(ln(alpha)/n) exactly
    for n in (10, 1000, 10**5, 10**9):
        assert clopper_pearson_lower(n, n, 1e-3) == pytest.approx(1e-3 ** (1 / n), rel=1e-12)
        assert clopper_pearson_lower_tail(n, n, 1e-3) == pytest.approx(-math.expm1(math.log(1e-3) / n), rel=1e-9)
    # at n = 1e9 the naive 1 - p loses ~9 digits; the radius from the tail stays exact
    n = 10**9
    exact = norm.isf(-math.expm1(math.log(1e-3) / n))
    assert radius_cap(n, 1e-3) == pytest.approx(exact, rel=1e-12)
    # vectorised
    ks = np.array([0, 5, 10])
    assert np.allclose(clopper_pearson_lower(ks, 10, 0.05), [clopper_pearson_lower(int(k), 10, 0.05) for k in ks])


@pytest.mark.parametrize("bad", [(-1, 10, 0.1), (11, 10, 0.1), (5, 0, 0.1), (5, 10, 0.0), (5, 10, 1.0), (2.5, 10, 0.1)])
def test_clopper_pearson_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        clopper_pearson_lower(*bad)


def test_radius_cap_and_minimum_certifying_count():
    assert radius_cap(10**5, 1e-3) == pytest.approx(3.8115, abs=1e-4)
    assert radius_cap(10**4, 1e-3) == pytest.approx(3.1986, abs=1e-4)
    assert radius_cap(10**3, 1e-3) == pytest.approx(2.4633, abs=1e-4)
    # smallest nA that certifies at n = 1e5, alpha = 1e-3 is 50490 (ddrs.md §1.7)
    assert clopper_pearson_lower(50_490, 10**5, 1e-3) >= 0.5 > clopper_pearson_lower(50_489, 10**5, 1e-3)


def test_radius_monotone_and_linear_in_sigma():
    n = 1000
    k = np.arange(500, n + 1)
    r = cohen_radius(clopper_pearson_lower(k, n, 1e-3), 1.0)
    assert np.all(np.diff(r) >= 0)
    alphas = [1e-4, 1e-3, 1e-2, 0.1]
    ra = [cohen_radius(clopper_pearson_lower(900, n, a), 1.0) for a in alphas]
    assert np.all(np.diff(ra) > 0)
    assert cohen_radius(0.9, 0.5) == pytest.approx(0.5 * norm.ppf(0.9), rel=1e-12)
    assert np.all(r <= radius_cap(n, 1e-3) + 1e-12)


# --------------------------------------------------------------------------- mock classifiers
class Constant(torch.nn.Module):
    """Always votes for class ``c``; records the size of every forward call."""

    def __init__(self, c: int, k: int = 3):
        super().__init__()
        self.c, self.k, self.calls = c, k, []

    def forward(self, x):
        self.calls.append(x.shape[0])
        out = torch.zeros(x.shape[0], self.k)
        out[:, self.c] = 1.0
        return out


class Linear(torch.nn.Module):
    """Binary linear classifier f(x) = 1[w.x + b > 0] as two logits."""

    def __init__(self, w: torch.Tensor, b: float):
        super().__init__()
        self.w, self.b = w, b

    def forward(self, x):
        s = x.flatten(1) @ self.w + self.b
        return torch.stack([-s, s], dim=1)


def test_abstain_thresholds_constant_classifier():
    x = torch.full((1, 4, 4), 0.5)
    sm = Smooth(Constant(2), num_classes=3, sigma=0.5)
    c9 = sm.certify(x, n0=1, n=9, alpha=1e-3, batch_size=4, seed=0)
    assert c9.label == ABSTAIN and c9.radius == 0.0 and c9.p_lower == pytest.approx(0.4642, abs=1e-4)
    c10 = sm.certify(x, n0=1, n=10, alpha=1e-3, batch_size=4, seed=0)
    assert c10.label == 2 and c10.p_lower == pytest.approx(0.50119, abs=1e-5)
    assert c10.radius == pytest.approx(0.00297 * 0.5, rel=1e-2)
    # PREDICT: p-value 2 * 2^-n against alpha = 1e-3
    assert sm.predict(x, n=10, alpha=1e-3, batch_size=4, seed=0) == ABSTAIN
    assert sm.predict(x, n=11, alpha=1e-3, batch_size=4, seed=0) == 2


def test_radius_cap_reached_by_unanimous_votes():
    x = torch.zeros(2)
    sm = Smooth(Constant(0, k=2), num_classes=2, sigma=0.25)
    cert = sm.certify(x, n0=100, n=10**5, alpha=1e-3, batch_size=50_000, seed=1)
    assert cert.label == 0
    assert cert.radius == pytest.approx(0.25 * 3.81146, abs=1e-5)
    assert cert.radius == pytest.approx(radius_cap(10**5, 1e-3, 0.25), rel=1e-12)


def test_selection_and_estimation_use_separate_batched_draws():
    class PhaseVoter(torch.nn.Module):
        """Votes 0 during the first ``n0`` samples and 1 afterwards, counting calls."""

        def __init__(self, n0):
            super().__init__()
            self.n0, self.seen, self.calls = n0, 0, []

        def forward(self, x):
            b = x.shape[0]
            self.calls.append(b)
            if b == 1 and len(self.calls) == 1:  # the clean shape check before sampling
                return torch.zeros(1, 2)
            out = torch.zeros(b, 2)
            cls = (torch.arange(self.seen, self.seen + b) >= self.n0).long()
            out[torch.arange(b), cls] = 1.0
            self.seen += b
            return out

    n0, n, b = 25, 103, 10
    model = PhaseVoter(n0)
    sm = Smooth(model, 2, 0.1)
    cert = sm.certify(torch.zeros(3), n0=n0, n=n, alpha=0.01, batch_size=b, seed=0)
    assert model.calls == []  # Smooth samples with its own copy: the caller's module is untouched
    model = sm.base_classifier
    # one shape check, then ceil(n0/b) + ceil(n/b) batched calls; last batches of size n0 mod b, n mod b
    assert model.calls == [1] + [10, 10, 5] + [10] * 10 + [3]
    assert cert.counts0.tolist() == [n0, 0]
    assert cert.counts.tolist() == [0, n]  # selection votes never leak into the estimate
    assert cert.candidate == 0 and cert.label == ABSTAIN


def test_certificate_reproducible_from_seed_and_records_audit_fields():
    torch.manual_seed(0)
    w = torch.randn(16)
    sm = Smooth(Linear(w, 0.05), 2, sigma=0.5)
    x = torch.rand(1, 4, 4)
    a = sm.certify(x, 50, 2000, 1e-3, batch_size=300, seed=123)
    b = sm.certify(x, 50, 2000, 1e-3, batch_size=300, seed=123)
    c = sm.certify(x, 50, 2000, 1e-3, batch_size=300, seed=124)
    assert a.counts.tolist() == b.counts.tolist() and a.radius == b.radius
    assert a.counts.tolist() != c.counts.tolist()
    assert a.counts.sum() == 2000 and a.counts0.sum() == 50
    d = a.to_dict()
    for key in ("label", "radius", "p_lower", "counts", "counts0", "n0", "n", "alpha", "sigma", "seed", "time_s"):
        assert key in d
    # no seed: a fresh one is drawn and recorded, and it reproduces the certificate
    e = sm.certify(x, 50, 2000, 1e-3, batch_size=300)
    assert e.seed is not None
    assert sm.certify(x, 50, 2000, 1e-3, batch_size=300, seed=e.seed).counts.tolist() == e.counts.tolist()


def test_noise_added_before_normalisation():
    """A model that normalises in its first layer and the same affine map folded into the weights
    see the same noisy pixels, so give the same votes and radii (ddrs.md §7.5)."""
    torch.manual_seed(1)
    w, b, mu, s = torch.randn(9), 0.2, 0.4, 0.3

    class Normalised(torch.nn.Module):
        def forward(self, x):
            z = (x - mu) / s
            return Linear(w, b)(z)

    folded = Linear(w / s, b - float(w.sum()) * mu / s)
    x = torch.rand(9)
    c1 = Smooth(Normalised(), 2, 0.3).certify(x, 20, 4000, 1e-3, 1000, seed=5)
    c2 = Smooth(folded, 2, 0.3).certify(x, 20, 4000, 1e-3, 1000, seed=5)
    # identical up to a handful of samples that sit within float rounding of the boundary
    assert abs(int(c1.counts[1]) - int(c2.counts[1])) <= 2
    # and the radius is the closed form's, sigma-independent units of pixels (|w.z + b| / ||w|| in z)
    dist = abs(float(folded.w @ x) + folded.b) / float(folded.w.norm())
    assert c1.radius <= dist


def test_linear_classifier_certificates_are_sound_over_many_seeds():
    """f(x) = 1[w.x + b > 0]: pA = Phi(|w.x + b| / (sigma ||w||)) and the true robust radius of g is
    the distance |w.x + b| / ||w||. A certificate is wrong when its class differs from g(x) or its
    radius exceeds that distance; this happens with probability <= alpha per call."""
    torch.manual_seed(2)
    d = 8
    w = torch.randn(d)
    sigma, n0, n, alpha, repeats = 0.5, 32, 1000, 0.01, 1500
    wrong_any = 0
    for target_pa in (0.9, 0.99):
        dist = sigma * norm.ppf(target_pa)
        # place x at distance dist on the positive side (class 1), inside [0, 1]
        x = torch.full((d,), 0.5)
        b = float(dist * w.norm() - w @ x)
        model = Linear(w, b)
        sm = Smooth(model, 2, sigma)
        pa = norm.cdf((float(w @ x) + b) / (sigma * float(w.norm())))
        assert pa == pytest.approx(target_pa, rel=1e-5)
        wrong = 0
        for r in range(repeats):
            cert = sm.certify(x, n0, n, alpha, batch_size=n, seed=10_000 * r + 7)
            if cert.label == ABSTAIN:
                continue
            if cert.label != 1 or cert.radius > dist + 1e-9:
                wrong += 1
        # Bin(repeats, alpha) exceeds this with probability < 1e-6
        assert wrong <= binom.isf(1e-6, repeats, alpha), (target_pa, wrong)
        wrong_any += wrong
    # the bound is not vacuous: Clopper-Pearson errs with frequency close to alpha at pA = 0.9
    # (ddrs.md §7.6: 0.0098 at N=1000, alpha=0.01); seeing none at all in 3000 calls has P ~ 1e-10
    assert wrong_any >= 1


def test_pb_variant_sound_and_never_smaller_than_cohen_at_half_alpha():
    torch.manual_seed(3)
    w = torch.randn(8)
    x = torch.full((8,), 0.5)
    for b in (0.3, 1.0, 3.0):
        sm = Smooth(Linear(w, b), 2, 0.5)
        pb = sm.certify(x, 50, 2000, 1e-3, 2000, seed=9, method="pb")
        half = sm.certify(x, 50, 2000, 5e-4, 2000, seed=9)
        assert pb.counts.tolist() == half.counts.tolist()
        assert pb.label == half.label
        assert pb.radius >= half.radius - 1e-12
        assert pb.p_upper_b <= 1 - pb.p_lower + 1e-15
        dist = abs(float(w @ x) + b) / float(w.norm())
        assert pb.radius <= dist
    # ten classes: class 3 with probability 0.6, the other 0.4 spread evenly over nine classes
    # (a quantile classifier of the one noisy coordinate, so the true probabilities are known)
    class Spread(torch.nn.Module):
        def forward(self, z):
            t = torch.special.ndtr((z[:, 0] - 0.5) / 0.25)
            others = torch.tensor([0, 1, 2, 4, 5, 6, 7, 8, 9])
            cls = torch.where(t < 0.6, 3, others[((t - 0.6) / 0.4 * 9).long().clamp(0, 8)])
            return torch.nn.functional.one_hot(cls, 10).float()

    sm = Smooth(Spread(), 10, 0.25)
    z = torch.full((1,), 0.5)
    pb = sm.certify(z, 100, 5000, 1e-3, 5000, seed=1, method="pb")
    coh = sm.certify(z, 100, 5000, 1e-3, 5000, seed=1)
    assert pb.label == coh.label == 3
    # Thm. 1 radius with the true probabilities bounds the one from confidence bounds
    assert pb.radius <= 0.25 / 2 * (norm.ppf(0.6) - norm.ppf(0.4 / 9))
    # bounding p_B separately pays off when the runner-up mass is spread (1 - p_A ~ 0.4 vs p_B ~ 0.044)
    assert pb.radius > 3 * coh.radius > 0


class Counting(torch.nn.Module):
    def __init__(self, k=3):
        super().__init__()
        self.lin = torch.nn.Linear(16, k)
        self.batches = 0

    def forward(self, x):
        if x.shape[0] > 1:
            self.batches += 1
        return self.lin(x.flatten(1))


@pytest.mark.parametrize(
    "kwargs,x,match",
    [
        (dict(n0=100, n=50, alpha=0.01), torch.rand(1, 4, 4), "at least n0"),
        (dict(n0=10, n=100, alpha=0.0), torch.rand(1, 4, 4), "alpha"),
        (dict(n0=10, n=100, alpha=1.0), torch.rand(1, 4, 4), "alpha"),
        (dict(n0=10, n=100, alpha=0.01), torch.rand(1, 4, 4) * 3, r"\[0, 1\]"),
        (dict(n0=10, n=100, alpha=0.01), torch.full((1, 4, 4), float("nan")), "NaN"),
        (dict(n0=10, n=100, alpha=0.01), torch.rand(1, 5, 5), "shape"),
        (dict(n0=0, n=100, alpha=0.01), torch.rand(1, 4, 4), "n0"),
        (dict(n0=10, n=100, alpha=0.01, batch_size=0), torch.rand(1, 4, 4), "batch_size"),
    ],
)
def test_bad_input_raises_before_sampling(kwargs, x, match):
    model = Counting()
    sm = Smooth(model, 3, 0.25)
    with pytest.raises(ValueError, match=match):
        sm.certify(x, **kwargs)
    assert sm.base_classifier.batches == 0


def test_bad_construction_and_output_size():
    with pytest.raises(ValueError, match="sigma"):
        Smooth(Counting(), 3, 0.0)
    with pytest.raises(ValueError, match="sigma"):
        Smooth(Counting(), 3, -1.0)
    with pytest.raises(ValueError, match="num_classes"):
        Smooth(Counting(), 1, 0.5)
    bad = Counting()
    with torch.no_grad():
        bad.lin.weight[0, 0] = float("nan")
    with pytest.raises(ValueError, match="non-finite"):
        Smooth(bad, 3, 0.5)
    model = Counting(k=4)
    sm = Smooth(model, 3, 0.5)
    with pytest.raises(ValueError, match="num_classes=3"):
        sm.certify(torch.rand(1, 4, 4), 10, 100, 0.01)
    assert sm.base_classifier.batches == 0
    with pytest.raises(ValueError, match="shape"):
        Smooth(Counting(), 3, 0.5, input_shape=(1, 4, 4)).predict(torch.rand(16), 10, 0.01)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_definition():
    sm = Smooth(Constant(1, k=2), 2, 0.5, device="cuda")
    cert = sm.certify(torch.zeros(3), 10, 1000, 1e-3, 256, seed=0)
    assert cert.label == 1 and cert.radius == pytest.approx(radius_cap(1000, 1e-3, 0.5))


def test_padded_batches_for_compiled_forward_give_the_same_votes():
    """With compile=True every forward sees batch_size rows (one compiled shape); the padding rows
    are clean copies whose votes are dropped, and the noise stream is unchanged. The padding path
    is exercised here with an eager stand-in for the compiled graph (compiling costs seconds)."""
    torch.manual_seed(4)
    model = Linear(torch.randn(16), 0.1)
    x = torch.rand(1, 4, 4)
    eager = Smooth(model, 2, 0.5).certify(x, 30, 1003, 1e-3, batch_size=200, seed=3)
    padded = Smooth(model, 2, 0.5)
    sizes = []
    padded.compiled = True
    padded._forward = lambda z: (sizes.append(z.shape[0]), model(z))[1]
    cert = padded.certify(x, 30, 1003, 1e-3, batch_size=200, seed=3)
    assert set(sizes) == {200} and len(sizes) == 1 + 6  # ceil(30/200) + ceil(1003/200)
    assert cert.counts.tolist() == eager.counts.tolist() and cert.counts0.tolist() == eager.counts0.tolist()


def test_channels_last_certifies_the_same_digits_cnn():
    from robustcore.nets import DigitsCNN

    torch.manual_seed(5)
    a, b = DigitsCNN().eval(), DigitsCNN().eval()
    b.load_state_dict(a.state_dict())
    x = torch.rand(1, 8, 8)
    c1 = Smooth(a, 10, 0.25).certify(x, 20, 2000, 1e-3, 500, seed=2)
    c2 = Smooth(b, 10, 0.25, channels_last=True).certify(x, 20, 2000, 1e-3, 500, seed=2)
    # same noise; the convolution only changes the last bits, so at most a borderline vote or two moves
    assert np.abs(c1.counts - c2.counts).sum() <= 4 and c1.candidate == c2.candidate


def test_predict_errs_at_most_alpha_on_the_linear_classifier():
    """PREDICT returns g(x) or abstains, except with probability <= alpha (Hung & Fithian test)."""
    torch.manual_seed(6)
    d, sigma, alpha, repeats = 8, 0.5, 0.05, 300
    w = torch.randn(d)
    x = torch.full((d,), 0.5)
    for target_pa, n in ((0.52, 400), (0.9, 100)):
        b = float(sigma * norm.ppf(target_pa) * w.norm() - w @ x)
        sm = Smooth(Linear(w, b), 2, sigma)
        outs = [sm.predict(x, n, alpha, batch_size=n, seed=s) for s in range(repeats)]
        wrong = sum(o == 0 for o in outs)
        assert wrong <= binom.isf(1e-6, repeats, alpha)
        if target_pa == 0.9:  # far from the boundary it answers, and answers right
            assert outs.count(1) >= repeats * 0.95
        else:  # near the boundary it mostly abstains rather than guess
            assert outs.count(ABSTAIN) > repeats / 2


def test_smooth_leaves_the_callers_model_as_it_found_it():
    """Issue 12: train/eval mode, memory format, requires_grad and device of the caller's model are untouched
    (Smooth samples with a private frozen copy), even with channels_last."""
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.Flatten(),
                                torch.nn.Linear(4 * 8 * 8, 3))
    model.train()
    model[3].weight.requires_grad_(False)  # a mixed pattern of flags must survive too
    before = {k: v.clone() for k, v in model.state_dict().items()}
    flags = [p.requires_grad for p in model.parameters()]
    strides = [p.stride() for p in model.parameters()]
    x = torch.rand(1, 8, 8)
    sm = Smooth(model, 3, 0.25, channels_last=True)
    sm.certify(x, 10, 50, 0.01, batch_size=25, seed=0)
    sm.predict(x, 20, 0.01, seed=1)
    assert model.training and all(m.training for m in model.modules())
    assert [p.requires_grad for p in model.parameters()] == flags
    assert [p.stride() for p in model.parameters()] == strides  # memory format (layout) unchanged
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # BN running stats unchanged
    assert sm.base_classifier is not model and not sm.base_classifier.training


def test_seed_drawn_from_torch_default_generator_and_recorded():
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 3))
    sm = Smooth(model, 3, 0.5)
    x = torch.rand(4)
    torch.manual_seed(123)
    a = sm.certify(x, 10, 100, 0.01)
    torch.manual_seed(123)
    b = sm.certify(x, 10, 100, 0.01)
    assert a.seed == b.seed is not None and np.array_equal(a.counts, b.counts)
    c = sm.certify(x, 10, 100, 0.01, seed=a.seed)  # the recorded seed reproduces the certificate
    assert np.array_equal(c.counts, a.counts) and np.array_equal(c.counts0, a.counts0)


def test_input_range_none_accepts_toy_and_normalised_inputs():
    model = torch.nn.Sequential(torch.nn.Linear(2, 2))
    x = torch.tensor([-3.0, 5.0])
    with pytest.raises(ValueError, match="input_range"):
        Smooth(model, 2, 0.5).certify(x, 10, 100, 0.01, seed=0)
    cert = Smooth(model, 2, 0.5, input_range=None).certify(x, 10, 100, 0.01, seed=0)
    assert cert.n == 100
    assert Smooth(model, 2, 0.5, input_range=(-5, 5)).predict(x, 50, 0.01, seed=0) in (-1, 0, 1)


@pytest.mark.parametrize("kwargs,x,exc,match", [
    (dict(n0=10, n=10**9 + 1, alpha=0.01), torch.rand(4), ValueError, "cap"),
    (dict(n0=10, n=10**12, alpha=0.01), torch.rand(4), ValueError, "cap"),
    (dict(n0=10, n=0, alpha=0.01), torch.rand(4), ValueError, "n must"),
    (dict(n0=10, n=100, alpha=0.01), torch.zeros(0), ValueError, "empty"),
    (dict(n0=10, n=100, alpha=0.01), torch.rand(4, dtype=torch.complex64), TypeError, "real"),
    (dict(n0=10, n=100, alpha=0.01), torch.full((4,), float("nan")), ValueError, "NaN"),
    (dict(n0=10, n=100, alpha=0.01), "image", TypeError, "x must"),
    (dict(n0=10, n=100.5, alpha=0.01), torch.rand(4), TypeError, "n must"),
])
def test_library_input_refused_before_sampling(kwargs, x, exc, match):
    model = torch.nn.Sequential(torch.nn.Flatten(0), torch.nn.Linear(4, 3))
    calls = []
    sm = Smooth(lambda b: (calls.append(b.shape[0]), torch.zeros(b.shape[0], 3))[1], 3, 0.25)
    with pytest.raises(exc, match=match):
        sm.certify(x, **kwargs)
    with pytest.raises(exc):
        sm.predict(x, kwargs["n"], kwargs["alpha"])
    assert calls == []
    del model
