"""The three-model experiment end to end on a tiny budget, stored and read back from the results store."""
import math

import numpy as np
import pytest
import torch
from torch import nn

from robustcore.gabor import GaborConv2d, lipschitz_upper_bound
from robustcore.gabor.training import (
    VARIANTS,
    build_variant,
    comparison_table,
    first_layer_lipschitz,
    run_comparison,
    stored_comparison,
    variant_config,
)
from robustcore.store import ResultsStore

TINY = dict(epochs=1, batch_size=128)


def test_variants_differ_only_in_first_layer():
    nets = {v: build_variant(variant_config(v)) for v in VARIANTS}
    assert isinstance(nets["standard"].first, nn.Conv2d)
    assert isinstance(nets["gabor"].first, GaborConv2d) and isinstance(nets["gabor-reg"].first, GaborConv2d)
    x = torch.rand(3, 1, 8, 8)
    for net in nets.values():
        assert net(x).shape == (3, 10)
    assert variant_config("gabor-reg")["reg_kind"] == "paper"


def test_first_layer_lipschitz_bounds_the_zero_padded_layer():
    torch.manual_seed(0)
    net = build_variant(variant_config("standard"))
    _, lip = first_layer_lipschitz(net, 8)
    # Reference: the zero-padded 3x3 conv on 8x8 built column by column, then its SVD.
    eye = torch.eye(64).reshape(64, 1, 8, 8)
    w = net.first.weight.detach()
    cols = nn.functional.conv2d(eye, w, padding=1).reshape(64, -1).T.double().numpy()
    assert np.linalg.svd(cols, compute_uv=False)[0] <= lip * (1 + 1e-6)
    gnet = build_variant(variant_config("gabor"))
    bound, glip = first_layer_lipschitz(gnet, 8)
    assert glip <= bound and bound == pytest.approx(lipschitz_upper_bound(gnet.first))


def test_run_comparison_stores_and_reads_back(tmp_path):
    store = ResultsStore(tmp_path / "r.sqlite")
    seen = []
    eps = {"linf": [0.1], "l2": [0.5]}
    kw = dict(store=store, eps=eps, pgd_steps=3, n_eval=60, **TINY)
    assert stored_comparison(**kw) is None
    long = run_comparison(progress=lambda f, m: seen.append(f), **kw)
    assert seen and seen[-1] == 1.0 and all(0 <= f <= 1 for f in seen)
    assert set(long["variant"]) == set(VARIANTS) and len(long) == 3 * 3
    assert long["accuracy"].between(0, 1).all()
    # PGD at a positive radius never beats clean accuracy by more than sampling noise of the random start.
    for v, d in long.groupby("variant"):
        clean = d.loc[d.norm == "clean", "accuracy"].item()
        assert (d.loc[d.norm != "clean", "accuracy"] <= clean + 1e-9).all()
    assert math.isnan(long.loc[long.variant == "standard", "layer_bound"].iloc[0])
    again = stored_comparison(**kw)
    assert again is not None
    np.testing.assert_allclose(again.sort_values(["variant", "norm"])["accuracy"].to_numpy(),
                               long.sort_values(["variant", "norm"])["accuracy"].to_numpy())
    m = store.metrics(kind="gabor-robustness")
    assert (m["name"] == "pgd_accuracy").sum() == 9
    wide = comparison_table(long)
    assert list(wide["variant"]) == list(VARIANTS) and "clean" in wide.columns and "linf@0.1" in wide.columns


@pytest.mark.parametrize("kw", [dict(variant="nope"), dict(variant="gabor", data="cifar10"),
                                dict(variant="gabor", epochs=0), dict(variant="gabor-reg", reg_kind="x")])
def test_bad_config(kw):
    with pytest.raises(ValueError):
        variant_config(**kw)


def test_cifar_network_takes_a_three_channel_gabor_layer():
    from robustcore.gabor.training import CifarCNN

    net = CifarCNN(first_layer=GaborConv2d(3, 16, 5, families=1, orientations=4))
    assert net(torch.rand(2, 3, 32, 32)).shape == (2, 10)
    assert variant_config("gabor", data="cifar10", root="/nonexistent", limit=10)["limit"] == 10


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_comparison_on_cuda_matches_the_cpu_path(tmp_path):
    kw = dict(eps={"linf": [0.1], "l2": [0.5]}, pgd_steps=3, n_eval=50, variants=("gabor",), **TINY)
    long = run_comparison(store=ResultsStore(tmp_path / "gpu.sqlite"), device="cuda", **kw)
    assert long["accuracy"].between(0, 1).all() and len(long) == 3
