"""Extension points loaded from outside the package (DESIGN §2: the research layer's plugins).

* :mod:`.signals` — the contract of a signal plugin (:class:`~.signals.SignalPlugin`);
* :mod:`.signal_discovery` — finding signal plugins (entry point group
  ``crypto_analyzer.signals`` or a file named in the report config) and fingerprinting their code.

The modules are imported by name; this package imports nothing, so importing one plugin kind does
not load the others.
"""

from __future__ import annotations

__all__: list[str] = []
