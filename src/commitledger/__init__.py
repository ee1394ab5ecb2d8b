"""commitledger: what did the tokens buy?

Kept import-free on purpose: the git hook imports this package on every
commit, so nothing heavy may load here.
"""

__version__ = "0.1.0"
