"""Package databases, read once for every feature: dpkg (status and status.d), apk,
Python distributions and npm modules, into one Package model (model.py)."""
