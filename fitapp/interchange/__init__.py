"""Import and export of rating and outcome files (shared/spec/interchange.md).

``csvio`` reads and writes the CSV dialect, ``importer`` loads ratings files
all or nothing, ``exporter`` writes the person-episode outcome file.
"""
