#!/bin/bash
# Runs inside the linux-host guest (see tests/interop/run-hotplug): live
# reconfiguration as a real Linux NVMe/TCP host sees it.
#   guest-hotplug.sh PORT NQN_OPEN NQN_CLOSED
# The host side changes the target through nvmf-rpc when asked: this script
# writes a request file into the shared directory /host and waits for the
# host's answer file (see run-hotplug):
#   /host/request.N  "add" | "remove"   ->   /host/done.N  "0" (or nvmf-rpc's exit status)
# Checks: a namespace hot-added to a connected subsystem appears in
# `nvme list` on the same controller, without a reconnect, and takes I/O;
# a hot-removed one disappears; a subsystem whose allow-list lacks this host
# is hidden from discovery and refuses the connect with a clear error.
# Prints "PASS check" / "FAIL check: why" lines and "guest: N passed, N failed".
# shellcheck source=/dev/null
. /usr/lib/linux-host/lib.sh
# shellcheck source=tests/interop/requests.sh
. /guest/requests.sh  # ask WHAT: the host side makes a change
set -u

port=${1:?usage: guest-hotplug.sh PORT NQN_OPEN NQN_CLOSED}
nqn_open=${2:?}
nqn_closed=${3:?}
npass=0 nfail=0

pass() { echo "PASS $*"; npass=$((npass + 1)); }
fail() { echo "FAIL $*"; nfail=$((nfail + 1)); }


# ns_listed DEV: true when `nvme list` shows the block device.
ns_listed() { nvme list 2>/dev/null | grep -q "^$1 "; }

# --- hot-add -------------------------------------------------------------
if nvme connect -t tcp -a "$HOST_ADDR" -s "$port" -n "$nqn_open"; then
    pass "nvme connect ${nqn_open##*:}"
else
    fail "nvme connect ${nqn_open##*:}"
    echo "guest: $npass passed, $nfail failed"
    exit 1
fi
ctrl=$(nvme_ctrl_dev "$nqn_open") || ctrl=none
if dev1=$(nvme_ns_dev "$nqn_open" 1 10); then
    pass "ns1 is $dev1 on $ctrl"
else
    fail "ns1 did not appear"
    dev1=/dev/null
fi
if nvme_ns_dev "$nqn_open" 2 1 >/dev/null 2>&1; then
    fail "ns2 exists before the hot-add"
else
    pass "no ns2 before the hot-add"
fi
nvme list 2>&1 | sed 's/^/    | /'

if ask add; then
    # The Namespace Attribute Changed event makes the kernel rescan: the new
    # namespace shows up on the same controller, no reconnect.
    if dev2=$(nvme_ns_dev "$nqn_open" 2 30); then
        pass "hot-added ns2 appeared as $dev2"
        nvme list 2>&1 | sed 's/^/    | /'
        if ns_listed "$dev2"; then pass "nvme list shows $dev2"; else fail "nvme list lacks $dev2"; fi
        now=$(nvme_ctrl_dev "$nqn_open") || now=gone
        if [ "$now" = "$ctrl" ]; then
            pass "same controller $ctrl (no reconnect)"
        else
            fail "controller changed from $ctrl to $now"
        fi
        if dd_verify "$dev2" 4; then
            pass "dd 4 MiB written and read back on $dev2"
        else
            fail "dd on $dev2"
        fi
        if dd_verify "$dev1" 4; then pass "ns1 still works"; else fail "dd on $dev1 after the hot-add"; fi
    else
        fail "hot-added ns2 did not appear within 30 s"
        nvme list 2>&1 | sed 's/^/    | /'
    fi
fi

# --- hot-remove ----------------------------------------------------------
if ask remove; then
    gone=0
    for _ in $(seq 150); do
        if ! nvme_ns_dev "$nqn_open" 2 1 >/dev/null 2>&1; then gone=1; break; fi
        sleep 0.2
    done
    if [ $gone = 1 ]; then pass "hot-removed ns2 disappeared"; else fail "ns2 still there 30 s after removal"; fi
    if dd_verify "$dev1" 4; then pass "ns1 still works after the removal"; else fail "dd on ns1 after the removal"; fi
fi
nvme list 2>&1 | sed 's/^/    | /'
if nvme disconnect -n "$nqn_open" >/dev/null 2>&1; then pass "nvme disconnect"; else fail "nvme disconnect"; fi

# --- allow-list ----------------------------------------------------------
out=$(nvme discover -t tcp -a "$HOST_ADDR" -s "$port" 2>&1) || true
if echo "$out" | grep -q "subnqn: *$nqn_open" && ! echo "$out" | grep -q "subnqn: *$nqn_closed"; then
    pass "discovery shows ${nqn_open##*:} and hides ${nqn_closed##*:}"
else
    fail "discovery log: $(echo "$out" | grep subnqn | tr '\n' ' ')"
fi
dmesg -c >/dev/null 2>&1 || true
rc=0
out=$(nvme connect -t tcp -a "$HOST_ADDR" -s "$port" -n "$nqn_closed" 2>&1) || rc=$?
# shellcheck disable=SC2001
echo "$out" | sed 's/^/    | /'
kmsg=$(dmesg 2>/dev/null | grep -i "not allowed" | tail -n 1)
echo "    | kernel: $kmsg"
if [ $rc != 0 ] && ! nvme_ctrl_dev "$nqn_closed" >/dev/null 2>&1; then
    pass "connect to ${nqn_closed##*:} refused (nvme connect exit $rc)"
else
    fail "connect to ${nqn_closed##*:} was not refused"
    nvme disconnect -n "$nqn_closed" >/dev/null 2>&1
fi
# The kernel reports our Connect Invalid Host status by name.
if echo "$kmsg" | grep -q "$nqn_closed"; then
    pass "kernel says the host is not allowed on ${nqn_closed##*:}"
else
    fail "no 'not allowed' kernel message for ${nqn_closed##*:}"
fi

echo "guest: $npass passed, $nfail failed"
[ $nfail = 0 ]
