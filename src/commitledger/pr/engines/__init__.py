"""Metric engines for the maintainability signals, one module per engine.

``radon_engine`` (Python), ``bca_engine`` (big-code-analysis: every other
language it parses, and cognitive complexity for Python), ``lizard_engine``
(cyclomatic complexity for languages bca rejects, such as Swift). Which
engine measures which file is decided by ``languages`` from the file's
extension; ``metrics`` holds the records they all return.
"""
