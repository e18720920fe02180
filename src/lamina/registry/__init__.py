"""The registry server: OCI Distribution Spec v1.1 over deduplicated storage.

Layers: ``http/`` (routes, one module per API area) on top of ``Registry``
(``registry.py``: the operations), on top of two small protocols,
``storage.BlobStore`` (bytes) and ``meta.MetaStore`` (names, links, tags).
Speaks only ``lamina.oci``; never imports the client or the local store.
"""
