"""robustcore: an interactive lab for the geometry of robust neural networks.

The package is UI-free: every research line is a subpackage (``tropical``, ``gabor``,
``smoothing``, ``clustr``, ``batchsize``) over shared foundations (``data``, ``nets``,
``store``, ``attacks``), and ``viz`` turns results into plotly figures.
"""

__version__ = "0.1.0"
