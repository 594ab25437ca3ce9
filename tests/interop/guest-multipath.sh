#!/bin/bash
# Runs inside the linux-host guest (see tests/interop/run-multipath): native
# NVMe multipath and ANA as a real Linux host sees them.
#   guest-multipath.sh NQN PORT_A PORT_B
# Connects to one subsystem on two listeners (two ports), checks they form one
# multipath device with both paths optimized, then runs fio with crc32c
# verify on it in a loop while it asks the host side (files in /host, see
# run-multipath) to change the target:
#   /host/request.N  "ana PORT STATE" | "remove PORT" | "add PORT"  ->  /host/done.N  "0"
# After each change it waits for the path states to show it (sysfs ana_state,
# `nvme list-subsys`). fio must end with zero errors and zero verify failures.
# Prints "PASS check" / "FAIL check: why" lines and "guest: N passed, N failed".
# shellcheck source=/dev/null
. /usr/lib/linux-host/lib.sh
# shellcheck source=tests/interop/requests.sh
. /guest/requests.sh  # ask WHAT: the host side makes a change
set -u

nqn=${1:?usage: guest-multipath.sh NQN PORT_A PORT_B}
port_a=${2:?}
port_b=${3:?}
npass=0 nfail=0

pass() { echo "PASS $*"; npass=$((npass + 1)); }
fail() { echo "FAIL $*"; nfail=$((nfail + 1)); }
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

# path_state PORT: "<controller state> <ana state>" of the path through PORT,
# "none" when there is no controller on it.
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
    local i=0 now
    while [ $i -lt $(($3 * 5)) ]; do
        now=$(path_state "$1")
        [ "$now" = "$2" ] && return 0
        sleep 0.2
        i=$((i + 1))
    done
    echo "    | path on port $1 is '$(path_state "$1")', expected '$2'" >&2
    return 1
}

# Both paths; a short reconnect delay so a listener that comes back is used
# again quickly, and no controller loss timeout while it is away.
multipath=$(cat /sys/module/nvme_core/parameters/multipath 2>/dev/null || echo '?')
if [ "$multipath" = Y ]; then
    pass "native NVMe multipath is on in the guest kernel"
else
    fail "nvme_core.multipath is '$multipath'"
    finish
fi
for p in "$port_a" "$port_b"; do
    if nvme connect -t tcp -a "$HOST_ADDR" -s "$p" -n "$nqn" --reconnect-delay=1 \
        --ctrl-loss-tmo=-1; then
        pass "nvme connect ${nqn##*:} on port $p"
    else
        fail "nvme connect ${nqn##*:} on port $p"
        finish
    fi
done
if dev=$(nvme_ns_dev "$nqn" 1 10); then
    pass "one multipath namespace $dev"
else
    fail "no namespace device"
    finish
fi
nheads=0
for b in /sys/block/nvme*n1; do
    case ${b##*/} in
        nvme*c*n1) ;;  # a path, not a head
        nvme*n1) [ -e "$b" ] && nheads=$((nheads + 1)) ;;
    esac
done
ncontrollers=$(for c in /sys/class/nvme/nvme*; do cat "$c/subsysnqn"; echo; done 2>/dev/null |
    grep -c "^$nqn$" || true)
if [ "$ncontrollers" = 2 ] && [ "$nheads" = 1 ]; then
    pass "two controllers, one namespace head"
else
    fail "$ncontrollers controllers and $nheads namespace heads"
fi
for p in "$port_a" "$port_b"; do
    if expect_path "$p" "live optimized" 10; then
        pass "path on port $p is live optimized"
    else
        fail "path on port $p is not live optimized"
    fi
done
nvme list-subsys "$dev" 2>&1 | sed 's/^/    | /'

# fio over the multipath device in a loop: each round writes 16 MiB at random
# and verifies every block (crc32c), stopping at the first mismatch.
rm -f /tmp/stop /tmp/fio.*
(
    n=0
    while [ ! -e /tmp/stop ]; do
        n=$((n + 1))
        if fio --name=mp --filename="$dev" --direct=1 --ioengine=libaio --iodepth=8 \
            --rw=randwrite --bs=4k --size=16M --verify=crc32c --verify_fatal=1 \
            --do_verify=1 --randrepeat=0 --output=/tmp/fio.out.$n >/dev/null 2>&1 &&
            ! grep -qE 'err= *[1-9]|verify: bad' /tmp/fio.out.$n; then
            echo "$n" >/tmp/fio.ok
        else
            echo "$n" >>/tmp/fio.failed
            cat /tmp/fio.out.$n >>/tmp/fio.failed 2>/dev/null
        fi
    done
) &
fio_loop=$!
sleep 3

# show WHAT: nvme list-subsys as the host shows it after a change.
show() {
    echo "    | after $1:"
    nvme list-subsys "$dev" 2>&1 | sed 's/^/    | /'
}

if ask "ana $port_a inaccessible"; then
    if expect_path "$port_a" "live inaccessible" 20; then
        pass "path on port $port_a became inaccessible (ANA change event, ANA log)"
    else
        fail "path on port $port_a did not become inaccessible"
    fi
    if expect_path "$port_b" "live optimized" 1; then pass "path on port $port_b stayed optimized"; else fail "path on port $port_b changed"; fi
    show "port $port_a inaccessible"
    if nvme list-subsys "$dev" 2>&1 | grep -qE "trsvcid=${port_a}[, ].*live inaccessible"; then
        pass "nvme list-subsys shows port $port_a live inaccessible"
    else
        fail "nvme list-subsys does not show port $port_a inaccessible"
    fi
    sleep 4  # I/O runs on the other path only
fi
if ask "ana $port_a optimized"; then
    if expect_path "$port_a" "live optimized" 20; then
        pass "path on port $port_a is optimized again"
    else
        fail "path on port $port_a did not return to optimized"
    fi
fi
if ask "ana $port_b non_optimized"; then
    if expect_path "$port_b" "live non-optimized" 20; then
        pass "path on port $port_b became non-optimized"
    else
        fail "path on port $port_b did not become non-optimized"
    fi
    show "port $port_b non-optimized"
    if nvme list-subsys "$dev" 2>&1 | grep -qE "trsvcid=${port_b}[, ].*live non-optimized"; then
        pass "nvme list-subsys shows port $port_b live non-optimized"
    else
        fail "nvme list-subsys does not show port $port_b non-optimized"
    fi
    sleep 2
fi
if ask "remove $port_b"; then
    # The target tears the path's controller down; the host keeps reconnecting.
    i=0
    while [ "$(path_state "$port_b" | cut -d' ' -f1)" = live ] && [ $i -lt 100 ]; do
        sleep 0.2
        i=$((i + 1))
    done
    now=$(path_state "$port_b")
    if [ "${now%% *}" != live ]; then
        pass "path on port $port_b went down with its listener ($now)"
    else
        fail "path on port $port_b is still live 20 s after its listener was removed"
    fi
    show "listener $port_b removed"
    sleep 4  # I/O on port A alone
fi
if ask "add $port_b"; then
    if expect_path "$port_b" "live optimized" 30; then
        pass "path on port $port_b reconnected, live optimized"
    else
        fail "path on port $port_b did not come back"
    fi
    show "listener $port_b added back"
    sleep 3
fi

touch /tmp/stop
wait "$fio_loop"
rounds=$(cat /tmp/fio.ok 2>/dev/null || echo 0)
if [ -e /tmp/fio.failed ]; then
    fail "fio reported errors or verify failures:"
    sed 's/^/    | /' /tmp/fio.failed | head -n 40
else
    pass "fio randwrite + crc32c verify: $rounds rounds of 16 MiB through every change, zero errors"
fi
[ "$rounds" -gt 0 ] || fail "no fio round completed"
if dd_verify "$dev" 8; then pass "dd 8 MiB written and read back equal after the changes"; else fail "dd after the changes"; fi
if nvme disconnect -n "$nqn" >/dev/null 2>&1; then pass "nvme disconnect (both paths)"; else fail "nvme disconnect"; fi
finish
