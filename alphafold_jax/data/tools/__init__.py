"""Wrappers of the search and alignment tools (Suppl. 1.2.2-1.2.3).

jackhmmer and hmmbuild + hmmsearch run in-process through pyhmmer (no HMMER
binary needed), or hmmbuild + hmmsearch through their binaries
(`hmmsearch.HmmsearchBinary`); HHblits, HHsearch and kalign run as
subprocesses when their binaries are installed, with timeouts and errors
naming what is missing.
"""
