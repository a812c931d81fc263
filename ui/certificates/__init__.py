"""Sections of the certificates page (``app_pages/certificates.py``): configuration, cached compute, verdicts
and one module per view (noise and votes, sigma landscape, every certificate, dataset)."""
