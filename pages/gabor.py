from ui.common import placeholder, sidebar_settings

sidebar_settings()
placeholder("Gabor filters", "Learnable Gabor layers and their Lipschitz constants.",
            ["the filter bank and each filter's frequency response",
             "the closed-form Lipschitz bound beside the exact constant", "the regulariser at work"])
