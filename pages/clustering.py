from ui.common import placeholder, sidebar_settings

sidebar_settings()
placeholder("Clustering certificates", "Nearest-centre classifiers and their tight certificate.",
            ["the embedding with centres and Voronoi cells", "certified radius per image", "an attack that tests it"])
