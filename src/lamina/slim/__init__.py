"""Making images smaller from what their program really uses (issue 10, `lamina slim`).

`pipeline.slim` is the whole command: `session` runs the image under a tracer
(`tracing`: `fanotify` as root, `stracelog` from strace otherwise) and its
`probes`; `imagetree`, `inventory` (`dpkgdb`, `apkdb`, `pydists`, `npmpkgs`: the tree's
files for packages/'s readers) and
`linker`/`elf` describe the image; `keepset` decides what stays and why;
`assemble` writes NEW; `vulns` counts advisories before and after; `report`
prints it all.
"""
