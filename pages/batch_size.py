from ui.common import placeholder, sidebar_settings

sidebar_settings()
placeholder("Batch size", "The optimal mini-batch size of SGD and SGD that learns it.",
            ["total complexity against tau", "adaptive batch-size trajectories"])
