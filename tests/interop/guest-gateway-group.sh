#!/bin/bash
# Runs inside the linux-host guest (see tests/interop/run-gateway-group): a
# real Linux host on a gateway group of two nvmf-target daemons exporting the
# same Ceph image, with native multipath.
#   guest-gateway-group.sh NQN PORT_A PORT_B
# Environment: FIO_MIB (fio size, default 64).
# Connects to both gateways (one subsystem, two controllers, one namespace
# head), checks the path through A (the home of ANA group 1) is optimized and
# the one through B inaccessible, runs fio randwrite 4k with verify=crc32c on
# the namespace and, while it runs, asks the host side to SIGKILL gateway A
# ("kill-a"). B must fence A and take the group: the path through B turns
# optimized (the time it took is printed) and fio ends with no error. Then A
# is started again ("restart-a"): its controller reconnects and its path
# stays inaccessible (B keeps the group: no I/O taken from a working
# gateway), and a second fio pass (--verify_only) reads every block back.
# Prints "PASS check" / "FAIL check: why" lines and "guest: N passed, N failed".
# shellcheck source=/dev/null
. /usr/lib/linux-host/lib.sh
# shellcheck source=tests/interop/requests.sh
. /guest/requests.sh  # ask WHAT: the host side makes a change
set -u

nqn=${1:?usage: guest-gateway-group.sh NQN PORT_A PORT_B}
port_a=${2:?}
port_b=${3:?}
fio_mib=${FIO_MIB:-64}
npass=0 nfail=0

pass() { echo "PASS [gateway-group] $*"; npass=$((npass + 1)); }
fail() { echo "FAIL [gateway-group] $*"; nfail=$((nfail + 1)); }
finish() {
    echo "guest: $npass passed, $nfail failed"
    [ $nfail = 0 ]
    exit
}

# ctrl_of PORT: the controller (sysfs dir) of our subsystem reached on PORT.
ctrl_of() {
    local c
    for c in /sys/class/nvme/nvme*; do
        [ "$(cat "$c/subsysnqn" 2>/dev/null)" = "$nqn" ] || continue
        case $(cat "$c/address" 2>/dev/null) in
            *"trsvcid=$1"*) echo "$c"; return 0 ;;
        esac
    done
    return 1
}

# path_state PORT: "<controller state> <ana state>" of ns1's path via PORT.
path_state() {
    local c p
    c=$(ctrl_of "$1") || { echo none; return; }
    for p in "$c"/nvme*c*n1; do
        [ -e "$p/ana_state" ] || continue
        echo "$(cat "$c/state") $(cat "$p/ana_state")"
        return
    done
    echo "$(cat "$c/state") no-path"
}

# expect_path PORT "STATE" SECONDS: waits until path_state PORT is STATE.
expect_path() {
    local i=0
    while [ $i -lt $(($3 * 10)) ]; do
        [ "$(path_state "$1")" = "$2" ] && return 0
        sleep 0.1
        i=$((i + 1))
    done
    echo "    | path on port $1 is '$(path_state "$1")', expected '$2'" >&2
    return 1
}

uptime_s() { cut -d' ' -f1 /proc/uptime; }

dmesg -c >/dev/null 2>&1 || true
for p in "$port_a" "$port_b"; do
    if nvme connect -t tcp -a "$HOST_ADDR" -s "$p" -n "$nqn" --reconnect-delay=1 \
        --ctrl-loss-tmo=120 >/tmp/connect.out 2>&1; then
        pass "nvme connect on port $p"
    else
        fail "nvme connect on port $p: $(tr '\n' ' ' </tmp/connect.out)"
        finish
    fi
done
if ! dev=$(nvme_ns_dev "$nqn" 1 10); then
    fail "ns1 did not appear"
    finish
fi
if expect_path "$port_a" "live optimized" 15 && expect_path "$port_b" "live inaccessible" 15; then
    pass "one head $dev: optimized through gateway A, inaccessible through B"
else
    fail "paths are not A optimized / B inaccessible"
fi
nvme list-subsys "$dev" 2>&1 | sed 's/^/    | /'

fio_args=(--name=gw --filename="$dev" --direct=1 --ioengine=libaio --rw=randwrite --bs=4k
    --iodepth=16 --size="${fio_mib}M" --verify=crc32c --verify_fatal=1
    --output-format=terse --terse-version=3)
fio "${fio_args[@]}" --do_verify=1 >/tmp/fio.out 2>&1 &
fio_pid=$!
sleep 3  # writing through A by now
if ! kill -0 "$fio_pid" 2>/dev/null; then
    fail "fio ended before the kill was asked for: $(head -c 300 /tmp/fio.out)"
    finish
fi
t0=$(uptime_s)
if ask kill-a; then
    if expect_path "$port_b" "live optimized" 60; then
        t1=$(uptime_s)
        pass "gateway A SIGKILLed under fio: the path through B is optimized after $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s"
    else
        fail "the path through B did not turn optimized within 60 s"
    fi
    if kill -0 "$fio_pid" 2>/dev/null; then
        pass "fio was still running when B took over"
    else
        fail "fio ended before B took over (raise FIO_MIB)"
    fi
fi
rc=0
wait "$fio_pid" || rc=$?
# Terse v3: field 5 is the job's error (errno), 0 when all went well.
err=$(grep -m1 '^3;' /tmp/fio.out | cut -d';' -f5)
if [ "$rc" = 0 ] && [ "${err:-x}" = 0 ]; then
    pass "fio randwrite 4k QD16 ${fio_mib} MiB verify=crc32c across the failover: no error"
else
    fail "fio exit $rc, error '${err:-none}': $(grep -iE 'error|verify|bad' /tmp/fio.out | head -n 3 | tr '\n' ' ')"
fi

if ask restart-a; then
    if expect_path "$port_a" "live inaccessible" 30; then
        pass "gateway A is back: its controller reconnected, its path stays inaccessible"
    else
        fail "gateway A's path is not 'live inaccessible' after its restart"
    fi
    sleep 5  # several leases: A must not take the group back meanwhile
    if [ "$(path_state "$port_b")" = "live optimized" ] &&
        [ "$(path_state "$port_a")" = "live inaccessible" ]; then
        pass "B keeps the group after A rejoined (no I/O taken from it)"
    else
        fail "after A rejoined: A '$(path_state "$port_a")', B '$(path_state "$port_b")'"
    fi
fi
if fio "${fio_args[@]}" --verify_only=1 >/tmp/fio2.out 2>&1 &&
    [ "$(grep -m1 '^3;' /tmp/fio2.out | cut -d';' -f5)" = 0 ]; then
    pass "every block fio wrote reads back and verifies (fio --verify_only)"
else
    fail "fio --verify_only: $(grep -iE 'error|verify|bad' /tmp/fio2.out | head -n 3 | tr '\n' ' ')"
fi

kmsg=$(dmesg 2>/dev/null | grep -i nvme)
echo "$kmsg" | tail -n 14 | sed 's/^/    | kernel: /'
if echo "$kmsg" | grep -qiE "failing I/O|I/O error|Buffer I/O"; then
    fail "kernel: $(echo "$kmsg" | grep -iE 'failing I/O|I/O error|Buffer I/O' | head -n 1)"
else
    pass "no failed I/O in the kernel log"
fi
if nvme disconnect -n "$nqn" >/dev/null 2>&1; then pass "nvme disconnect"; else fail "nvme disconnect"; fi
finish
