"""Code rules: what a call in source code says about the cryptography it uses.

:mod:`.engine` holds the rule model (:class:`~.engine.Hit`) and the one hit → finding path; the matchers run
rules over a parsed file (:mod:`.pyast` for Python's :mod:`ast`, :mod:`.treesitter` for the tree-sitter
languages, :mod:`.regex` as the fallback when a grammar is missing); one module per language holds that
language's rules as tables and handlers (:mod:`.python`, :mod:`.java`, :mod:`.go`, :mod:`.javascript`,
:mod:`.c`, :mod:`.csharp`; :mod:`.bouncycastle` is shared by Java and C#); :mod:`.registry` is the table of
languages and :func:`~.registry.scan` the entry point; :mod:`.derive` derives the prefilter's words from the
Python rule table.
"""
