"""The metric core: vocabulary, metrics, ground truth, predictions, clip sets, evaluation. Imports
nothing of the project outside ``core``.
"""
