#!/usr/bin/env bash
# postgres.sh -- a throwaway PostgreSQL 15 on loopback, for the registry's tests and benchmarks.
#
#   scripts/postgres.sh start DIR PORT   initdb in DIR/data (user "lamina", trust auth on
#                                        127.0.0.1 only), start on 127.0.0.1:PORT with the
#                                        socket in DIR; prints DATABASE_URL
#   scripts/postgres.sh restart DIR      fast shutdown, then start with the same options
#   scripts/postgres.sh stop DIR         fast shutdown of that server
#
# Debian package: postgresql (binaries in /usr/lib/postgresql/15/bin). As root the server
# runs as the unprivileged user postgres (PostgreSQL refuses root), so DIR is made
# traversable and given to that user.
set -euo pipefail

die() { echo "postgres: $*" >&2; exit 1; }
BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
[[ -x $BIN/pg_ctl ]] || die "$BIN/pg_ctl is missing (apt-get install postgresql)"

as_owner() {  # run as the data directory's owner: postgres when we are root
    if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case ${1:-} in
    stop)
        [[ $# == 2 ]] || die "usage: $0 stop DIR"
        as_owner "$BIN/pg_ctl" stop -m fast -w -D "$2/data" >/dev/null
        exit 0 ;;
    restart)
        [[ $# == 2 ]] || die "usage: $0 restart DIR"
        as_owner "$BIN/pg_ctl" restart -m fast -w -D "$2/data" >/dev/null
        exit 0 ;;
    start) [[ $# == 3 ]] || die "usage: $0 start DIR PORT" ;;
    *) die "usage: $0 start DIR PORT | $0 restart DIR | $0 stop DIR" ;;
esac

DIR=$2
PORT=$3
[[ $PORT =~ ^[0-9]+$ ]] || die "PORT must be a number, got '$PORT'"
mkdir -p "$DIR/data"
DIR=$(cd "$DIR" && pwd)
[[ -z $(ls -A "$DIR/data") ]] || die "$DIR/data is not empty"
chmod 755 "$DIR"
if [[ $(id -u) == 0 ]]; then
    # Every directory above DIR must be traversable by postgres (root's mkdtemp is 0700).
    d=$DIR
    while [[ $d != / ]]; do
        runuser -u postgres -- test -x "$d" || die "postgres cannot enter $d (make it 0755 or use another DIR)"
        d=$(dirname "$d")
    done
    chown postgres: "$DIR" "$DIR/data"
fi
as_owner "$BIN/initdb" -D "$DIR/data" -U lamina --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
    >"$DIR/initdb.log" 2>&1 || { cat "$DIR/initdb.log" >&2; die "initdb failed"; }
# fsync off: the data is thrown away with DIR; max_connections for several replicas' pools.
as_owner "$BIN/pg_ctl" start -w -D "$DIR/data" -l "$DIR/server.log" \
    -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" \
    >/dev/null || { tail -n 20 "$DIR/server.log" >&2; die "the server did not start"; }
echo "DATABASE_URL=postgresql://lamina@127.0.0.1:$PORT/postgres"
