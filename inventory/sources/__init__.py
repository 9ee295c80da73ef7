"""Sources of findings: files (code, certificates and keys, configs, manifests), live endpoints, captures.

Each file source is a function ``scan(path, text_or_bytes, display) -> list[Finding]`` registered in
:mod:`inventory.sources.files`; each raises :class:`~inventory.errors.MalformedInputError` for input it
recognises but cannot parse, which the walker records as a skipped file with the reason.
"""
