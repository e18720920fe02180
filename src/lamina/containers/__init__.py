"""Containers `lamina run` starts from images: options, launching, records for ps/logs/stop/rm."""
