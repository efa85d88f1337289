"""What the learners share as scikit-learn estimators (DESIGN.md, house style 10).

The points table (:class:`~leadscore.learn.scorecard.Scorecard`) and the
predictive model (:class:`~leadscore.learn.boosting.BoostedClassifier`) are
binary classifiers that take missing values (NaN) as information: a lead without
a company size is binned or split like any other value.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin  # type: ignore[import-untyped]
from sklearn.utils.multiclass import (  # type: ignore[import-untyped]
    check_classification_targets,
    type_of_target,
)


class BinaryClassifierMixin(ClassifierMixin):  # type: ignore[misc]
    """A classifier of two classes that accepts NaN in ``X``; put it before BaseEstimator."""

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.classifier_tags.multi_class = False
        return tags


def binary_classes(y: np.ndarray) -> np.ndarray:
    """The two classes of a binary target, or the error scikit-learn's checks expect.

    >>> binary_classes(np.array(["no", "yes", "no"])).tolist()
    ['no', 'yes']
    """
    check_classification_targets(y)
    kind = type_of_target(y, input_name="y", raise_unknown=True)
    if kind != "binary":
        raise ValueError(
            f"Only binary classification is supported. The type of the target is {kind}."
        )
    result: np.ndarray = np.unique(y)
    if len(result) < 2:
        raise ValueError(f"Learning needs samples of 2 classes; got 1 class ({result[0]!r} only).")
    return result
