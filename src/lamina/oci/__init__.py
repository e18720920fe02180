"""The OCI data model: pure values, no I/O."""
