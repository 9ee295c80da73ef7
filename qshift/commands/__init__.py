"""Every ``qshift`` command group, one module each, mounted by :mod:`qshift.cli`.

``pqc`` (+ ``pqc_algorithms``), ``qkd`` (+ ``qkd_run``), ``kme``, ``gateway``, ``inventory``. The domain
packages expose library APIs that take typed config objects; these modules parse options, load and
validate config files (:mod:`qshift.config`), call those APIs, and render the results.
"""

#: The help of ``--json`` wherever it appears: one name, one meaning.
JSON_HELP = "Print the result as JSON on stdout (data only, no table)."
#: The help of ``--force`` wherever it appears.
FORCE_HELP = "Replace existing key or CA files (refused otherwise)."
