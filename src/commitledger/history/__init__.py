"""A branch over time: the first-parent scan, its cache, reverts, the summary and the baseline."""
