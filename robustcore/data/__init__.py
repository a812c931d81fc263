"""Datasets: embedded digits, 2-D toy sets, and MNIST / CIFAR-10 from a local folder."""
from .digits import DIGITS_CLASSES, DIGITS_SHAPE, digits_dataset, load_digits
from .toy import TOY_DATASETS, toy_dataset
from .vision import VISION_DATASETS, DatasetNotFoundError, dataset_to_tensors, load_vision_dataset

__all__ = [
    "DIGITS_CLASSES",
    "DIGITS_SHAPE",
    "digits_dataset",
    "load_digits",
    "TOY_DATASETS",
    "toy_dataset",
    "VISION_DATASETS",
    "DatasetNotFoundError",
    "dataset_to_tensors",
    "load_vision_dataset",
]
