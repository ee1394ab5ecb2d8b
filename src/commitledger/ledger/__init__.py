"""What a commit says: AI-Usage trailers, AI markers, revert and PR conventions, usage sums, prices,
and the JSON contracts (``models``). Pure functions over text and numbers."""
