"""Attacks shared by every line: PGD (l-inf, l2), FGSM and robust accuracy."""
from .pgd import fgsm_attack, pgd_attack, robust_accuracy

__all__ = ["fgsm_attack", "pgd_attack", "robust_accuracy"]
