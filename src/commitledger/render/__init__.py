"""Output formats: the pull-request comment, job summary, JSON and the HTML report."""
