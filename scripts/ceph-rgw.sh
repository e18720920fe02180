#!/usr/bin/env bash
# ceph-rgw.sh -- a throwaway single-node Ceph cluster whose radosgw serves S3 on loopback,
# for the registry's object-storage tests and benchmarks.
#
#   scripts/ceph-rgw.sh start DIR PORT   monitor + one memstore OSD + radosgw (beast) on
#                                        127.0.0.1:PORT; prints S3_ENDPOINT, S3_ACCESS_KEY,
#                                        S3_SECRET_KEY (also written to DIR/s3.env)
#   scripts/ceph-rgw.sh stop DIR         stops exactly the daemons recorded in DIR/pids
#
# Debian packages: ceph-mon ceph-osd radosgw ceph-common uuid-runtime curl.
# Everything lives under DIR (empty or absent); data is in RAM and gone on stop.
# Nothing touches /etc/ceph, /var/lib/ceph or systemd.
set -euo pipefail

die() { echo "ceph-rgw: $*" >&2; exit 1; }

alive() {  # alive PID NAME: the process we started still runs
    [[ -r /proc/$1/comm && $(cat "/proc/$1/comm" 2>/dev/null) == "$2" ]] || return 1
    local state
    state=$(awk '/^State:/{print $2}' "/proc/$1/status" 2>/dev/null) || return 1
    [[ $state != Z ]]
}

stop_matching() {  # stop_matching SIGNAL REGEX: signal our daemons named REGEX, wait <= 10 s
    local sig=$1 re=$2 pid name left
    while read -r pid name; do
        if [[ $name =~ $re ]] && alive "$pid" "$name"; then kill "-$sig" "$pid" 2>/dev/null || true; fi
    done < "$PIDS"
    for _ in $(seq 100); do
        left=0
        while read -r pid name; do
            if [[ $name =~ $re ]] && alive "$pid" "$name"; then left=1; fi
        done < "$PIDS"
        [[ $left == 0 ]] && return 0
        sleep 0.1
    done
    return 1
}

stop() {
    PIDS=$1/pids
    [[ -f $PIDS ]] || die "nothing started in $1 (no pids file)"
    # radosgw holds no state and is slow to shut down cleanly; the OSD and the monitor
    # keep everything in RAM, which is thrown away anyway.
    stop_matching KILL '^radosgw$' || true
    stop_matching TERM '^ceph-osd$' || stop_matching KILL '^ceph-osd$' || true
    stop_matching TERM '^ceph-mon$' || stop_matching KILL '^ceph-mon$' || true
    mv "$PIDS" "$PIDS.stopped"
}

case ${1:-} in
    stop) [[ $# == 2 ]] || die "usage: $0 stop DIR"; stop "$2"; exit 0 ;;
    start) [[ $# == 3 ]] || die "usage: $0 start DIR PORT" ;;
    *) die "usage: $0 start DIR PORT | $0 stop DIR" ;;
esac

DIR=$(mkdir -p "$2" && cd "$2" && pwd)
PORT=$3
[[ $PORT =~ ^[0-9]+$ ]] || die "PORT must be a number, got '$PORT'"
[[ -z $(ls -A "$DIR") ]] || die "$DIR is not empty"
for tool in ceph-mon ceph-osd radosgw radosgw-admin ceph ceph-authtool monmaptool uuidgen curl; do
    command -v "$tool" >/dev/null || die "$tool is missing (apt-get install ceph-mon ceph-osd radosgw ceph-common uuid-runtime curl)"
done
free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free "$PORT" || die "port $PORT is in use"
MON_PORT=${CEPH_MON_PORT:-}
if [[ -z $MON_PORT ]]; then
    for _ in $(seq 100); do
        MON_PORT=$((20000 + RANDOM % 20000))
        [[ $MON_PORT != "$PORT" ]] && free "$MON_PORT" && break
    done
fi
free "$MON_PORT" || die "monitor port $MON_PORT is in use"

mkdir -p "$DIR"/{mon,osd,rgw,run,log}
PIDS=$DIR/pids
: > "$PIDS"
CONF=$DIR/ceph.conf
FSID=$(uuidgen)
WAIT=${CEPH_RGW_TIMEOUT:-60}

failed() {
    trap - ERR
    echo "ceph-rgw: $1 (logs in $DIR/log)" >&2
    tail -n 20 "$DIR"/log/*.log >&2 2>/dev/null || true
    stop "$DIR"
    exit 1
}
trap 'failed "command failed at line $LINENO"' ERR

until_ok() {  # until_ok WHAT CMD...: retry CMD until it succeeds; fail when a daemon dies
    local what=$1 deadline=$(( $(date +%s) + WAIT )) pid name
    shift
    until "$@" >/dev/null 2>&1; do
        while read -r pid name; do
            alive "$pid" "$name" || failed "$name exited while waiting for $what"
        done < "$PIDS"
        (( $(date +%s) <= deadline )) || failed "timed out waiting for $what"
        sleep 0.2
    done
}

# Loopback only, no cephx (radosgw still checks every S3 request's signature).
# Without cephx the monitor client must use crc mode: radosgw asks for "secure" by default.
# One OSD: pools of size 1 and CRUSH placing on OSDs, not hosts. Short paxos intervals
# commit radosgw's pool creations quickly, so the cluster is up in about two seconds.
# rgw gc min wait: deleted object data leaves the RAM-backed OSD within ~30 s, not 2 h.
cat > "$CONF" <<EOF
[global]
fsid = $FSID
mon host = [v2:127.0.0.1:$MON_PORT]
public addr = 127.0.0.1
ms bind msgr1 = false
ms bind msgr2 = true
auth cluster required = none
auth service required = none
auth client required = none
auth supported = none
ms mon client mode = crc
keyring = $DIR/keyring
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
pid file = $DIR/run/\$name.pid
log file = $DIR/log/\$name.log
log to stderr = false
err to stderr = false
crash dir = $DIR/log
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
mon warn on insecure global id reclaim allowed = false
osd crush chooseleaf type = 0
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
mon data avail crit = 1
mon data avail warn = 2

[mon]
mon data = $DIR/mon/\$name
paxos propose interval = 0.05
paxos min wait = 0.01

[osd]
osd data = $DIR/osd/\$name
osd objectstore = memstore
memstore device bytes = ${CEPH_MEMSTORE_BYTES:-4294967296}
osd crush initial weight = 1

[client.rgw.a]
rgw data = $DIR/rgw/\$name
rgw frontends = beast endpoint=127.0.0.1:$PORT
rgw thread pool size = 64
rgw dns name = 127.0.0.1
rgw gc obj min wait = 10
rgw gc processor period = 15
rgw gc processor max time = 15
EOF

daemon() {  # daemon NAME CMD...: run CMD in the foreground of its own session, record its PID
    local name=$1
    shift
    setsid "$@" -f </dev/null >>"$DIR/log/$name.out" 2>&1 &
    echo "$! $(basename "$1" | cut -c1-15)" >> "$PIDS"
}

ceph-authtool --create-keyring "$DIR/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool "$DIR/keyring" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' \
    --cap mgr 'allow *' >/dev/null
monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON_PORT]" "$DIR/monmap" >/dev/null
ceph-mon -c "$CONF" --mkfs -i a --monmap "$DIR/monmap" --keyring "$DIR/keyring"
daemon mon.a ceph-mon -c "$CONF" -i a
until_ok "the monitor" ceph -c "$CONF" --connect-timeout 2 mon stat

OSD_UUID=$(uuidgen)
OSD_ID=$(ceph -c "$CONF" osd new "$OSD_UUID")
mkdir -p "$DIR/osd/osd.$OSD_ID"
ceph-osd -c "$CONF" -i "$OSD_ID" --mkfs --osd-uuid "$OSD_UUID" >>"$DIR/log/osd-mkfs.out" 2>&1
daemon "osd.$OSD_ID" ceph-osd -c "$CONF" -i "$OSD_ID"
osd_up() { ceph -c "$CONF" osd dump 2>/dev/null | grep -q "^osd\.$OSD_ID up "; }
until_ok "osd.$OSD_ID" osd_up

mkdir -p "$DIR/rgw/client.rgw.a"
daemon rgw.a radosgw -c "$CONF" -n client.rgw.a
s3_up() { [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/") == 200 ]]; }
until_ok "radosgw on port $PORT" s3_up

token() { local s; s=$(head -c 4000 /dev/urandom | LC_ALL=C tr -dc "$1"); printf '%s' "${s:0:$2}"; }
ACCESS=${S3_ACCESS_KEY:-$(token 'A-Z0-9' 20)}
SECRET=${S3_SECRET_KEY:-$(token 'A-Za-z0-9' 40)}
radosgw-admin -c "$CONF" user create --uid=lamina --display-name="lamina tests" \
    --access-key="$ACCESS" --secret-key="$SECRET" >"$DIR/log/user.out" 2>&1

trap - ERR
cat > "$DIR/s3.env" <<EOF
S3_ENDPOINT=http://127.0.0.1:$PORT
S3_ACCESS_KEY=$ACCESS
S3_SECRET_KEY=$SECRET
EOF
cat "$DIR/s3.env"
