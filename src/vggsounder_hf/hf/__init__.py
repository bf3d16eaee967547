"""The Hugging Face side: the ``datasets`` builder, ``evaluate`` inputs, the Trainer hook, Hub
export, push and results.
"""
