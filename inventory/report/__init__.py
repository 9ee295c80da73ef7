"""Renderings of a scan: CycloneDX 1.6 CBOM, SARIF 2.1.0, rich terminal table, HTML, and scan diffs."""
