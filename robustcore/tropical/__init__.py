"""Tropical geometry of (Affine, ReLU, Affine) networks (Alfarra et al., arXiv:2002.08838).

Compute only (no streamlit). See ``../shared/reference/tropical.md`` for the mathematics:
``net`` (the network), ``polynomial`` (f_i = H_i - Q_i), ``zonotope`` (Z_G1, Z_G2), ``subdivision``
(lifted zonotopes, delta(R), T(R)), ``regions`` (linear regions), ``boundary`` (the decision
boundary two ways), ``geometry`` (everything a 2-D view draws), ``projection`` (d > 2); the applications
``pruning`` (tropical vs magnitude pruning), ``lottery`` (lottery tickets) and ``attack`` (tropical attacks).
"""

from .boundary import (
    argmax_boundary_cells,
    argmax_tie_regions,
    argmax_boundary_dual,
    decision_boundary_cells,
    decision_boundary_dual,
    segment_set_distance,
    segments_length,
    tie_regions,
)
from .geometry import PairGeometry, pair_geometry, region_dual_points
from .hull import PairHull, zonotope_pair_hull
from .net import ShallowReluNet, relu_part
from .polynomial import (
    TropicalPolynomial,
    common_denominator_polynomials,
    common_denominator_weights,
    pair_polynomials,
    tropical_decomposition,
)
from .projection import coordinate_frame, pca_frame, project_generators, projected_zonotope, slice_net
from .regions import RegionMap, linear_regions_2d, region_bound
from .subdivision import DualSubdivision, LiftedZonotope, dual_subdivision, lifted_zonotopes, subdivision_from_lifted
from .attack import TropicalAttackResult, default_attack_point, pgd_min_radius, split_first_layer, tropical_attack
from .lottery import LotteryExperiment, LotteryRun, lottery_experiment, normalised_hausdorff, polytope_collapsed
from .pruning import (
    PruneResult,
    magnitude_prune,
    pruning_curves,
    pruning_metrics,
    refit_output_bias,
    tropical_objective,
    tropical_prune,
    tropical_prune_lambda,
)
from .zonotope import (
    subset_sums,
    support_function,
    zonogon_directions,
    zonotope_area,
    zonotope_perimeter,
    zonotope_vertices,
    zonotope_volume,
)

__all__ = [
    "ShallowReluNet",
    "relu_part",
    "TropicalPolynomial",
    "tropical_decomposition",
    "pair_polynomials",
    "common_denominator_weights",
    "common_denominator_polynomials",
    "subset_sums",
    "support_function",
    "zonogon_directions",
    "zonotope_area",
    "zonotope_perimeter",
    "zonotope_vertices",
    "zonotope_volume",
    "PairHull",
    "zonotope_pair_hull",
    "LiftedZonotope",
    "DualSubdivision",
    "lifted_zonotopes",
    "dual_subdivision",
    "subdivision_from_lifted",
    "RegionMap",
    "linear_regions_2d",
    "region_bound",
    "decision_boundary_cells",
    "decision_boundary_dual",
    "argmax_boundary_cells",
    "argmax_tie_regions",
    "argmax_boundary_dual",
    "tie_regions",
    "segment_set_distance",
    "segments_length",
    "PairGeometry",
    "pair_geometry",
    "region_dual_points",
    "pca_frame",
    "coordinate_frame",
    "project_generators",
    "projected_zonotope",
    "slice_net",
    # applications (pruning, lottery tickets, attacks)
    "PruneResult",
    "magnitude_prune",
    "pruning_curves",
    "pruning_metrics",
    "refit_output_bias",
    "tropical_objective",
    "tropical_prune",
    "tropical_prune_lambda",
    "LotteryExperiment",
    "LotteryRun",
    "lottery_experiment",
    "normalised_hausdorff",
    "polytope_collapsed",
    "TropicalAttackResult",
    "pgd_min_radius",
    "split_first_layer",
    "tropical_attack",
    "default_attack_point",
]
