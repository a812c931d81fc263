from ui.common import placeholder, sidebar_settings

sidebar_settings()
placeholder("Tropical geometry", "Decision boundaries of Affine-ReLU-Affine networks as tropical hypersurfaces.",
            ["input space: data, neuron lines, linear regions, T(R), the decision boundary",
             "dual space: the zonotopes Z_G1, Z_G2, their hull and the dual subdivision",
             "tropical pruning, lottery tickets and boundary-moving attacks"])
