"""Git access: the one checked runner (``run``), the hook's fast file reader (``lite``), pygit2
ranges and blobs (``repo``), repository paths and notes."""
