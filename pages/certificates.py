from ui.common import placeholder, sidebar_settings

sidebar_settings()
placeholder("Certificates", "Randomized smoothing, one image at a time.",
            ["noisy samples and class votes", "the Cohen certificate", "sigma landscapes and data-dependent sigma"])
