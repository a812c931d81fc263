"""Datasets: embedded digits, bundled MNIST-5k, 2-D toy sets, and MNIST / CIFAR-10 from a local folder."""
from .datasets import DATA_ROOT_ENV, DATASET_SHAPES, DATASETS, DatasetInfo, dataset_info, load_dataset
from .digits import DIGITS_CLASSES, DIGITS_SHAPE, digits_dataset, load_digits
from .mnist5k import MNIST5K_CLASSES, MNIST5K_SHAPE, load_mnist5k, mnist5k_split_indices
from .toy import TOY_DATASETS, toy_dataset
from .vision import VISION_DATASETS, DatasetNotFoundError, dataset_to_tensors, load_vision_dataset

__all__ = [
    "DATA_ROOT_ENV",
    "DATASET_SHAPES",
    "DATASETS",
    "DatasetInfo",
    "dataset_info",
    "load_dataset",
    "DIGITS_CLASSES",
    "DIGITS_SHAPE",
    "digits_dataset",
    "load_digits",
    "MNIST5K_CLASSES",
    "MNIST5K_SHAPE",
    "load_mnist5k",
    "mnist5k_split_indices",
    "TOY_DATASETS",
    "toy_dataset",
    "VISION_DATASETS",
    "DatasetNotFoundError",
    "dataset_to_tensors",
    "load_vision_dataset",
]
