#!/bin/bash
# Runs inside the linux-host guest (see tests/interop/run-restart): the Linux
# NVMe/TCP host keeps its namespace across a crash and restart of the target.
#   guest-restart.sh PORT NQN
# Environment: FIO_MIB (fio size, default 48).
# Connects with --ctrl-loss-tmo=60 --reconnect-delay=1, records the
# namespace's identifiers (nvme id-ns, nvme ns-descs), starts fio randwrite 4k
# with verify=crc32c and, while it runs, asks the host side to kill -9 the
# daemon and start it again from the same config (request "restart", see
# requests.sh). Checks: fio was still running after the restart and ends with
# no error, the kernel reconnected and never logged "identifiers changed" or
# failed I/O, and the identifiers are the same afterwards.
# Prints "PASS check" / "FAIL check: why" lines and "guest: N passed, N failed".
# shellcheck source=/dev/null
. /usr/lib/linux-host/lib.sh
# shellcheck source=tests/interop/requests.sh
. /guest/requests.sh  # ask WHAT: the host side makes a change
set -u

port=${1:?usage: guest-restart.sh PORT NQN}
nqn=${2:?}
fio_mib=${FIO_MIB:-48}
npass=0 nfail=0

pass() { echo "PASS [restart] $*"; npass=$((npass + 1)); }
fail() { echo "FAIL [restart] $*"; nfail=$((nfail + 1)); }
finish() {
    echo "guest: $npass passed, $nfail failed"
    [ $nfail = 0 ]
    exit
}

# ids DEV: the namespace's identifiers as nvme-cli prints them.
ids() {
    nvme id-ns "$1" 2>&1 | grep -iE '^(nguid|eui64) '
    nvme ns-descs "$1" 2>&1 | grep -iE 'uuid|nguid|eui64'
}

dmesg -c >/dev/null 2>&1 || true
if nvme connect -t tcp -a "$HOST_ADDR" -s "$port" -n "$nqn" --ctrl-loss-tmo=60 \
    --reconnect-delay=1 >/tmp/connect.out 2>&1; then
    pass "nvme connect --ctrl-loss-tmo=60 --reconnect-delay=1"
else
    fail "nvme connect: $(tr '\n' ' ' </tmp/connect.out)"
    finish
fi
if ! dev=$(nvme_ns_dev "$nqn" 1 10); then
    fail "ns1 did not appear"
    finish
fi
before=$(ids "$dev")
echo "$before" | sed 's/^/    | before: /'
if echo "$before" | grep -qiE '^nguid *: *[0-9a-f]*[1-9a-f]' && echo "$before" | grep -qi uuid; then
    pass "$dev reports an NGUID and a UUID"
else
    fail "$dev lacks an NGUID or a UUID"
fi

fio --name=restart --filename="$dev" --direct=1 --ioengine=libaio --rw=randwrite --bs=4k \
    --iodepth=16 --size="${fio_mib}M" --verify=crc32c --do_verify=1 --verify_fatal=1 \
    --output-format=terse --terse-version=3 >/tmp/fio.out 2>&1 &
fio_pid=$!
sleep 2  # writing by now
if ! kill -0 "$fio_pid" 2>/dev/null; then
    fail "fio ended before the restart was asked for: $(head -c 300 /tmp/fio.out)"
    finish
fi
t0=$(cut -d' ' -f1 /proc/uptime)
if ask restart; then
    t1=$(cut -d' ' -f1 /proc/uptime)
    if kill -0 "$fio_pid" 2>/dev/null; then
        pass "the target was killed and restarted while fio ran ($(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s)"
    else
        fail "fio ended before the restart completed (raise FIO_MIB)"
    fi
fi
rc=0
wait "$fio_pid" || rc=$?
# Terse v3: field 5 is the job's error (errno), 0 when all went well.
err=$(grep -m1 '^3;' /tmp/fio.out | cut -d';' -f5)
if [ "$rc" = 0 ] && [ "${err:-x}" = 0 ]; then
    pass "fio randwrite 4k QD16 ${fio_mib} MiB verify=crc32c across kill -9 and restart: no error"
else
    fail "fio exit $rc, error '${err:-none}': $(grep -iE 'error|verify|bad' /tmp/fio.out | head -n 3 | tr '\n' ' ')"
fi

kmsg=$(dmesg 2>/dev/null | grep -i nvme)
echo "$kmsg" | tail -n 12 | sed 's/^/    | kernel: /'
if echo "$kmsg" | grep -qi "Successfully reconnected"; then
    pass "the kernel reconnected ($(echo "$kmsg" | grep -ci 'Successfully reconnected') time)"
else
    fail "no 'Successfully reconnected' in the kernel log"
fi
if echo "$kmsg" | grep -qi "identifiers changed"; then
    fail "kernel: $(echo "$kmsg" | grep -i 'identifiers changed' | head -n 1)"
else
    pass "no 'identifiers changed' in the kernel log"
fi
if echo "$kmsg" | grep -qiE "failing I/O|I/O error"; then
    fail "kernel: $(echo "$kmsg" | grep -iE 'failing I/O|I/O error' | head -n 1)"
else
    pass "no failed I/O in the kernel log"
fi

if now=$(nvme_ns_dev "$nqn" 1 5); then
    after=$(ids "$now")
    if [ "$after" = "$before" ]; then
        pass "same NGUID and UUID after the restart ($now)"
    else
        fail "identifiers differ after the restart"
        echo "$after" | sed 's/^/    | after: /'
    fi
else
    fail "ns1 gone after the restart"
fi
if nvme disconnect -n "$nqn" >/dev/null 2>&1; then pass "nvme disconnect"; else fail "nvme disconnect"; fi
finish
