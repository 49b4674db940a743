"""Wrappers of the search and alignment tools (Suppl. 1.2.2-1.2.3).

jackhmmer runs in-process through pyhmmer; HHblits, HHsearch, hmmsearch,
hmmbuild and kalign run as subprocesses when their binaries are installed.
"""
