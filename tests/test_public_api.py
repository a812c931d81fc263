"""The public API names of ../shared/DESIGN.md, which the pages, the command line and the tests rely on."""
import importlib
import inspect

import pytest

API = {
    "robustcore.tropical": {
        "ShallowReluNet": ["A", "c1", "B", "c2"],
        "TropicalPolynomial": [],
        "zonotope_vertices": ["G", "shift"],
    },
    "robustcore.smoothing": {
        "Smooth": ["base_classifier", "num_classes", "sigma", "device"],
        "Certificate": [],
        "ABSTAIN": None,
        "clopper_pearson_lower": ["k", "n", "alpha"],
        "optimize_sigma": ["model", "x", "sigma0", "steps", "lr", "n_samples"],
        "sigma_landscape": ["model", "x", "sigmas", "n", "alpha"],
    },
    "robustcore.gabor": {
        "gabor_kernel": ["size", "sigma", "theta", "lambd", "psi", "gamma"],
        "GaborConv2d": ["in_channels", "out_channels", "kernel_size", "orientations"],
        "filter_lipschitz_bounds": ["layer"],
        "lipschitz_upper_bound": ["layer"],
        "conv_spectral_norm": ["weight", "input_hw"],
    },
    "robustcore.clustr": {
        "nearest_center_radius": ["z", "centers", "center_labels"],
        "MagnetLoss": [],
        "ClusterClassifier": [],
    },
    "robustcore.batchsize": {
        "expected_smoothness": ["tau", "n", "L", "L_max", "sampling"],
        "gradient_noise": ["tau", "n", "h_star", "sampling"],
        "optimal_batch_size": ["n", "L", "L_max", "mu", "h_star", "eps", "sampling"],
        "adaptive_sgd": ["problem"],
    },
}
METHODS = {
    ("robustcore.tropical", "ShallowReluNet"): ["logits", "from_torch", "to_torch", "tropical_polynomials",
                                                "zonotope_generators", "decision_boundary_2d",
                                                "tropical_hypersurface_2d", "dual_subdivision_2d"],
    ("robustcore.smoothing", "Smooth"): ["predict", "certify"],
    ("robustcore.gabor", "GaborConv2d"): ["kernels"],
}


@pytest.mark.parametrize("module,name", [(m, n) for m, names in API.items() for n in names])
def test_name_exists_with_its_parameters(module, name):
    obj = getattr(importlib.import_module(module), name)
    params = API[module][name]
    if params:
        sig = inspect.signature(obj)
        names = list(sig.parameters)
        assert names[: len(params)] == params, f"{module}.{name}{sig}"


@pytest.mark.parametrize("key", list(METHODS))
def test_methods(key):
    cls = getattr(importlib.import_module(key[0]), key[1])
    for meth in METHODS[key]:
        assert callable(getattr(cls, meth, None)), f"{key[1]}.{meth}"


def test_smoothing_abstain_is_minus_one():
    from robustcore.smoothing import ABSTAIN

    assert ABSTAIN == -1
