"""The ``evaluate`` module's folder: ``vggsounder.py``, its card and its requirements.

``evaluate.load`` of this folder loads ``vggsounder.py``; ``vggsounder-hub push-metric``
uploads the same three files as a Hub Space. This ``__init__.py`` only makes the folder a
regular package (so that tools import the module under its package name); ``evaluate``
ignores it.
"""
