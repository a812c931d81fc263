"""Rows of the certificate tables with a plain-language verdict each (pure functions, no Streamlit).

Every row says which noise stream it used (purpose, and its full seed) and one of three statuses:
"guarantee" (a real guarantee, with the probability it holds), "not a guarantee" (and why) or
"abstains" (no class was certified: never labelled sound).
"""
from __future__ import annotations

GUARANTEE, NOT_GUARANTEE, ABSTAINS = "guarantee", "not a guarantee", "abstains"


def _pct(alpha: float) -> str:
    return f"{100 * (1 - alpha):g} %"


def short_seed(seed: int | None, digits: int = 6) -> str:
    """A 64-bit stream seed in short form for reading: its last ``digits`` decimal digits after an ellipsis
    ("…330027"); seeds with at most ``digits`` digits are shown whole, None (no noise) as "—".

    The short form is for telling streams apart on screen; the full value (needed to replay a stream) is
    in the table's CSV and the captions' tooltips.
    """
    if seed is None:
        return "—"
    text = str(int(seed))
    return text if len(text) <= digits else "…" + text[-digits:]


def _row(name: str, label, radius, sigma, p_lower, purpose: str, seed, status: str, verdict: str) -> dict:
    return {"certificate": name, "class": None if label is None or label < 0 else int(label),
            "radius": radius, "sigma": sigma, "p_lower": p_lower, "noise stream": purpose,
            "seed": None if seed is None else int(seed), "status": status, "verdict": verdict}


def fixed_row(cert, sigma: float, n: int, alpha: float, seed: int, purpose: str = "certify-fixed") -> dict:
    """Cohen's certificate of ``g_sigma`` (stream ``purpose``: "certify-fixed", or "certify-fixed-k" after k
    fresh draws)."""
    name = f"Fixed σ = {sigma:.2f} (Cohen)"
    if cert.label < 0:
        return _row(name, None, 0.0, sigma, cert.p_lower, purpose, seed, ABSTAINS,
                    f"Not a guarantee, because CERTIFY abstained: the lower bound on the top class's probability "
                    f"(p̲_A = {cert.p_lower:.3f}) is below 1/2 with n = {n:,} samples; more samples or another "
                    f"σ may certify.")
    return _row(name, cert.label, cert.radius, sigma, cert.p_lower, purpose, seed, GUARANTEE,
                f"A guarantee for g_σ (σ = {sigma:.2f}) with probability ≥ 1 − α = {_pct(alpha)}: it "
                f"answers class {cert.label} everywhere within ℓ2 radius {cert.radius:.3f} (Cohen et al. Thm 1). Its "
                "noise was never seen by the landscape, the optimiser or another row. It holds for a σ chosen "
                "without watching this row's radius; if you chose σ by watching it, press Fresh noise.")


def dd_row(cert, sigma_x: float, sigma0: float, alpha: float, seed: int) -> dict:
    """The fresh-sample certificate of ``g_{sigma_x}`` at the DDRS sigma (stream "certify-dd")."""
    name = "Data-dependent σ_x (DDRS)"
    if cert.label < 0:
        return _row(name, None, 0.0, sigma_x, cert.p_lower, "certify-dd", seed, ABSTAINS,
                    f"Not a guarantee, because CERTIFY abstained at σ_x = {sigma_x:.3f} "
                    f"(p̲_A = {cert.p_lower:.3f} < 1/2).")
    return _row(name, cert.label, cert.radius, sigma_x, cert.p_lower, "certify-dd", seed, NOT_GUARANTEE,
                f"Not a guarantee for the data-dependent classifier, because it uses another σ at each point of "
                f"the ball (Súkeník et al. 2022). It is a guarantee (probability ≥ {_pct(alpha)}) only for g at "
                f"the fixed σ_x = {sigma_x:.3f}, optimised from σ_0 = {sigma0:.2f} on separate noise.")


def memory_row(label: int, radius: float, sigma_x: float, p_lower: float, action: str, stored: int, alpha: float,
               seed: int, cert_label: int | None = None) -> dict:
    """The memory classifier's answer (its certificate comes from the "memory" stream; ``cert_label`` is
    that certificate's class, -1 when it abstained)."""
    name = "Data-dependent + memory"
    if label < 0:
        why = (f"the Cohen certificate it would store abstained (p̲_A = {p_lower:.3f} < 1/2 at σ_x = "
               f"{sigma_x:.3f})" if cert_label is not None and cert_label < 0 else
               f"the memory classifier abstains ({action}: the image lies inside a stored ball of another class)")
        return _row(name, None, 0.0, sigma_x, p_lower, "memory", seed, ABSTAINS, f"Not a guarantee, because {why}.")
    return _row(name, label, radius, sigma_x, p_lower, "memory", seed, GUARANTEE,
                f"A guarantee for the memory classifier with probability ≥ 1 − Mα (union bound over its "
                f"M = {stored} stored balls): balls of different classes are kept disjoint ({action}). Its answers "
                "depend on the order of the queries it has seen.")


def lipschitz_row(lc, r: float, alpha: float, seed: int) -> dict:
    """The Lipschitz-sigma certificate of the input-dependent classifier G (stream "lipschitz").

    Certified only when a class comes with a positive radius (and the library's ``status``, when it has
    one, says "certified"); otherwise the row abstains, saying whether CERTIFY itself abstained or the
    worst case over the admissible sigmas failed for every ball.
    """
    name = f"Lipschitz σ (kNN, r = {r:g})"
    status = getattr(lc, "status", None)
    cohen_label = getattr(lc, "cohen_label", None)
    cohen_label = lc.label if cohen_label is None else cohen_label
    if lc.label >= 0 and lc.radius > 0 and status in (None, "certified"):
        return _row(name, lc.label, lc.radius, lc.sigma, lc.p_lower, "lipschitz", seed, GUARANTEE,
                    f"A guarantee for the input-dependent classifier G with probability ≥ {_pct(alpha)}, given "
                    f"that ln σ(x) is r-Lipschitz (r = {r:g}, kNN σ): worst case over every admissible σ "
                    f"in the ball (Súkeník et al. 2022; formula re-derived, not checked against the paper's text). "
                    f"The fixed-σ radius at σ(x) would be {lc.cohen_radius:.3f}.")
    if cohen_label < 0:
        return _row(name, None, 0.0, lc.sigma, lc.p_lower, "lipschitz", seed, ABSTAINS,
                    f"Not a guarantee, because CERTIFY abstained at σ(x) = {lc.sigma:.3f} "
                    f"(p̲_A = {lc.p_lower:.3f} < 1/2).")
    return _row(name, None, 0.0, lc.sigma, lc.p_lower, "lipschitz", seed, ABSTAINS,
                f"Not a guarantee, because the worst case over every σ that an r-Lipschitz ln σ allows "
                f"(r = {r:g}) already fails for the smallest ball, although g at the fixed σ(x) = {lc.sigma:.3f} "
                f"certifies class {cohen_label} with radius {lc.cohen_radius:.3f}.")


def clustr_row(res: dict) -> dict:
    """The ClusTR certificate of the default ClusTR model (a different model from f; deterministic)."""
    name = "ClusTR (nearest centre)"
    if not res.get("sound"):
        return _row(name, res.get("label"), res.get("input_radius"), None, None, "none (deterministic)", None,
                    NOT_GUARANTEE, f"Not a guarantee, because {res.get('note') or 'the model did not certify it'}.")
    return _row(name, res["label"], res["input_radius"], None, None, "none (deterministic)", None, GUARANTEE,
                f"A deterministic guarantee for the default digits ClusTR model's nearest-centre rule (not for f or "
                f"g): no ℓ2 perturbation smaller than {res['input_radius']:.4f} changes its class. {res.get('note', '')}")
