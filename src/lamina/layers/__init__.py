"""Layer tars: read, write, whiteouts, safe apply, compression, OverlayFS mounts."""
