"""Learning from history: conversion reports, points tables, calibrated predictive scores.

``learn`` turns leads whose outcome is known into a :class:`Learned`: a points
table written as a model file (``Learned.points_model``), a calibrated LightGBM
model (``Learned.predict``), and a conversion report; ``load_learned`` reads one
back. See docs/learning.md.
"""

from leadscore.learn.archive import load_learned
from leadscore.learn.learned import Learned
from leadscore.learn.learning import learn, predict

__all__ = ["Learned", "learn", "load_learned", "predict"]
