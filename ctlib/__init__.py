"""ctlib: the thin library behind the CrystalTransformer companion book.

Models, training and analysis for reproducing Jin et al. (2024),
"Crystal Transformer Based Universal Atomic Embedding for Accurate and
Transferable Prediction of Materials Properties".
"""
__version__ = "0.1.0"
