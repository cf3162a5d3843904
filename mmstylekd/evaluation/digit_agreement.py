"""Do teacher and student draw the same digit for the same z?

A classifier fitted on scikit-learn's real 8x8 digits labels generated
images (area-downsampled to 8x8, grey, 0..16 like the data); the agreement
rate between teacher and student labels measures the output discrepancy the
StyleKD paper is about, in a way a person would judge it.
"""
from functools import lru_cache
from typing import Dict

import numpy as np
import torch
import torch.nn.functional as F


@lru_cache(maxsize=1)
def digit_classifier():
    """A logistic-regression classifier on all 1,797 real digits (cached)."""
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    data = load_digits()
    clf = LogisticRegression(max_iter=2000)
    clf.fit(data.data, data.target)
    return clf


def to_digit_features(images: torch.Tensor) -> np.ndarray:
    """(N, C, H, W) in [-1, 1] -> (N, 64) like scikit-learn's digits."""
    grey = images.float().clamp(-1, 1).mean(1, keepdim=True)
    small = F.adaptive_avg_pool2d(grey, 8)
    return ((small + 1) * 8).flatten(1).numpy()


def classify_digits(images: torch.Tensor):
    """Labels (N,) and their probabilities (N,)."""
    proba = digit_classifier().predict_proba(to_digit_features(images))
    return proba.argmax(1), proba.max(1)


def digit_agreement(teacher_imgs: torch.Tensor,
                    student_imgs: torch.Tensor) -> Dict[str, float]:
    """Fraction of pairs with the same predicted digit, and the mean
    classifier confidence on the teacher's and the student's images."""
    t_label, t_conf = classify_digits(teacher_imgs)
    s_label, s_conf = classify_digits(student_imgs)
    return dict(
        agreement=float((t_label == s_label).mean()),
        teacher_confidence=float(t_conf.mean()),
        student_confidence=float(s_conf.mean()))
