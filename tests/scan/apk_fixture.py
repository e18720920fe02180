"""An Alpine installed database and os-release, in the formats apk-tools and Alpine write."""

from __future__ import annotations

# /lib/apk/db/installed as apk-tools writes it (one block per package, blank-line separated)
INSTALLED = """\
C:Q1bTGcWkuA5MvwvUp5dixnbsmjnvE=
P:musl
V:1.2.4-r2
A:x86_64
S:383152
I:622592
T:the musl c library (libc) implementation
U:https://musl.libc.org/
L:MIT
o:musl
m:Timo Teräs <timo.teras@iki.fi>
t:1696342785
c:b9c0ea5a8f3b4a0e3ee81b0c5b4ad4fcb1ba0bca
p:so:libc.musl-x86_64.so.1=1
F:lib
R:ld-musl-x86_64.so.1
a:0:0:755
Z:Q1tpy+GS6ImqZZfbE38v9hrzRX8sU=

C:Q1yQ7mWNlR1wSm6mKR0LwQpeEbDlU=
P:libcrypto3
V:3.1.4-r1
A:x86_64
S:1710279
I:4407296
T:Crypto library from openssl
U:https://www.openssl.org/
L:Apache-2.0
o:openssl
m:Ariadne Conill <ariadne@dereferenced.org>
t:1698241212
c:2ba3b5a6b6a2a6fe8cd4a7ee6a7cd46c6cc2b6cc
D:so:libc.musl-x86_64.so.1
p:so:libcrypto.so.3=3
F:lib
R:libcrypto.so.3
a:0:0:755
Z:Q1nTmLkJrfe3KVu0VjsbBJfRrTqbM=

C:Q1dPLxyK8ZHWiFpdD1wUOFsZPrhbI=
P:busybox
V:1.36.1-r5
A:x86_64
S:517810
I:958464
T:Size optimized toolbox of many common UNIX utilities
U:https://busybox.net/
L:GPL-2.0-only
o:busybox
m:Sören Tempel <soeren+alpine@soeren-tempel.net>
t:1698239937
c:ab4b3b3ea5e3bd0d1e3d5fd6d0a3d4a0f3d3bd4e
F:bin
R:busybox
a:0:0:755
Z:Q1WUwBY0eZGOt5eX5lLqDHbXJtXDs=
"""
OS_RELEASE = """NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.18.4
PRETTY_NAME="Alpine Linux v3.18"
HOME_URL="https://alpinelinux.org/"
"""
