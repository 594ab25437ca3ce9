#!/bin/bash
# Runs inside the linux-host guest (see tests/interop/run-abort), booted with
# nvme_core.io_timeout=3: a namespace on a delay bdev made slower than the
# host's I/O timeout. The host times out the command, tears the queues down
# and reconnects (Linux NVMe/TCP recovers by resetting the controller, it
# sends no Abort); after the host side lowers the latency
# (bdev_delay_update_latency through SPDK's rpc.py), the retried read
# completes with the right data and new I/O works.
#   guest-abort.sh PORT NQN
# Requests to the host side (tests/interop/requests.sh): "slow" (8 s
# latencies), "fast" (1 ms).
# Prints "PASS check" / "FAIL check: why" lines and "guest: N passed, N failed".
# shellcheck source=/dev/null
. /usr/lib/linux-host/lib.sh
# shellcheck source=tests/interop/requests.sh
. /guest/requests.sh
set -u

port=${1:?usage: guest-abort.sh PORT NQN}
nqn=${2:?}
npass=0 nfail=0
pass() { echo "PASS $*"; npass=$((npass + 1)); }
fail() { echo "FAIL $*"; nfail=$((nfail + 1)); }
finish() {
    echo "guest: $npass passed, $nfail failed"
    [ "$nfail" = 0 ]
    exit
}

timeout_s=$(cat /sys/module/nvme_core/parameters/io_timeout)
if [ "$timeout_s" = 3 ]; then
    pass "host I/O timeout is $timeout_s s"
else
    fail "host I/O timeout is $timeout_s s, not 3 (--append nvme_core.io_timeout=3)"
fi

if nvme connect -t tcp -a "$HOST_ADDR" -s "$port" -n "$nqn" --reconnect-delay=1 --ctrl-loss-tmo=60; then
    pass "nvme connect ${nqn##*:}"
else
    fail "nvme connect ${nqn##*:}"
    finish
fi
dev=$(nvme_ns_dev "$nqn" 1 10) || { fail "namespace 1 did not appear"; finish; }
pass "namespace 1 is $dev (a delay bdev, 1 ms)"

dd if=/dev/urandom of=/tmp/pat bs=64k count=1 2>/dev/null
if dd if=/tmp/pat of="$dev" bs=64k count=1 oflag=direct 2>/dev/null; then
    pass "write 64 KiB at 1 ms latency"
else
    fail "write 64 KiB at 1 ms latency"
fi

dmesg -c >/dev/null  # busybox: -c prints and clears
ask slow || finish
start=$(cut -d. -f1 /proc/uptime)
dd if="$dev" of=/tmp/back bs=64k count=1 iflag=direct 2>/tmp/dd.err &
dd_pid=$!
# The read waits 8 s in the target; the host gives up after 3 s.
sleep 5
# 6.1's nvme-tcp: "nvme nvme0: queue 1: timeout request 0x36 type 4".
timeout_re='nvme[0-9]+: queue [0-9]+: timeout'
if dmesg | grep -qE "$timeout_re"; then
    pass "the host timed out the delayed read: $(dmesg | grep -E "$timeout_re" | head -n 1 | tr -s ' ')"
else
    fail "no timeout in the kernel log after 5 s"
    dmesg | tail -n 20 | sed 's/^/    | /'
fi
ask fast || finish
# The retry after the reconnect (or the one after that, if it went out
# before the latency changed) completes.
waited=0
while kill -0 "$dd_pid" 2>/dev/null && [ $waited -lt 40 ]; do
    sleep 1
    waited=$((waited + 1))
done
if kill -0 "$dd_pid" 2>/dev/null; then
    fail "the read still hangs 40 s after the latency was lowered"
    kill "$dd_pid" 2>/dev/null
elif wait "$dd_pid"; then
    pass "the read completed after recovery ($(($(cut -d. -f1 /proc/uptime) - start)) s)"
    if cmp -s /tmp/pat /tmp/back; then
        pass "the data read after recovery is what was written"
    else
        fail "the data read after recovery differs"
    fi
else
    fail "the read failed: $(cat /tmp/dd.err)"
fi
dmesg | grep -iE 'nvme' | tail -n 12 | sed 's/^/    | /'
if dmesg | grep -qE 'nvme[0-9]+: Successfully reconnected'; then
    pass "the host reconnected: $(dmesg | grep -E 'Successfully reconnected' | tail -n 1 | tr -s ' ')"
else
    fail "no reconnect in the kernel log"
fi

if dd_verify "$dev" 4; then
    pass "4 MiB written and read back after recovery"
else
    fail "I/O after recovery"
fi
if nvme disconnect -n "$nqn" >/dev/null; then
    pass "nvme disconnect"
else
    fail "nvme disconnect"
fi
finish
