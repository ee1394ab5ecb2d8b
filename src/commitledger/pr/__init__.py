"""Scoring one change: the analysis (``analysis``) and ``signals/``, one module per signal."""
