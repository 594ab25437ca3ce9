#!/bin/bash
# Runs inside the linux-host guest (see tests/interop/run-reservations):
# reservations as nvme-cli and the Linux kernel host use them.
#   guest-reservations.sh PORT_A PORT_B NQN
# Two host identities (A: the guest's own, B: another --hostnqn/--hostid)
# connect to the same subsystem; with nvme_core.multipath=N each controller
# has its own block device, so each command goes out as the host it names.
# Asks the host side (tests/interop/requests.sh): "restart" (kill -9 the
# daemon, start it again from the same config), then "ns-add-host B" and
# "ns-remove-host B" for the masked namespace 2 (no_auto_visible, host A only).
# Prints "PASS check" / "FAIL check: why" lines and "guest: N passed, N failed".
# shellcheck source=/dev/null
. /usr/lib/linux-host/lib.sh
# shellcheck source=tests/interop/requests.sh
. /guest/requests.sh
set -u

port_a=${1:?usage: guest-reservations.sh PORT_A PORT_B NQN}
port_b=${2:?}
nqn=${3:?}
hid_a=6b1e2a4c-0d7f-4e35-9a51-1f3c2b8d9e70  # the guest's own (linux-host README)
hid_b=0b0b0b0b-1111-4222-8333-44444444444b
host_a=nqn.2014-08.org.nvmexpress:uuid:$hid_a
host_b=nqn.2014-08.org.nvmexpress:uuid:$hid_b
key_a=0xa1 key_b=0xb2
npass=0 nfail=0

pass() { echo "PASS $*"; npass=$((npass + 1)); }
fail() { echo "FAIL $*"; nfail=$((nfail + 1)); }
finish() {
    echo "guest: $npass passed, $nfail failed"
    [ $nfail = 0 ]
    exit
}

# Each host on its own listener: nvme-cli 2.3 takes a second connection to
# the same address and subsystem as a duplicate whatever the host NQN.
connect() {
    nvme connect -t tcp -a "$HOST_ADDR" -s "$3" -n "$nqn" --hostnqn="$1" --hostid="$2" \
        --ctrl-loss-tmo=60 --reconnect-delay=1
}
# ctrl_of HOSTNQN: this subsystem's controller (/dev/nvmeX) for that host.
ctrl_of() {
    local c
    for c in /sys/class/nvme/nvme*; do
        [ "$(cat "$c/subsysnqn" 2>/dev/null)" = "$nqn" ] || continue
        [ "$(cat "$c/hostnqn" 2>/dev/null)" = "$1" ] || continue
        echo "/dev/$(basename "$c")"
        return 0
    done
    return 1
}
# dev_now HOSTNQN NSID: that host's block device for the namespace, if it has one.
dev_now() {
    local c n
    c=$(ctrl_of "$1") || return 1
    for n in /sys/class/nvme/"$(basename "$c")"/"$(basename "$c")"n*; do
        [ "$(cat "$n/nsid" 2>/dev/null)" = "$2" ] || continue
        [ -b "/dev/$(basename "$n")" ] || continue
        echo "/dev/$(basename "$n")"
        return 0
    done
    return 1
}
# ns_of HOSTNQN [NSID]: waits (10 s) for that host's block device of NSID (1).
ns_of() {
    for _ in $(seq 50); do
        dev_now "$1" "${2:-1}" && return 0
        sleep 0.2
    done
    return 1
}
# ns_gone HOSTNQN NSID: waits (10 s) until that host has no block device for NSID.
ns_gone() {
    for _ in $(seq 50); do
        dev_now "$1" "$2" >/dev/null || return 0
        sleep 0.2
    done
    return 1
}
# active_ns HOSTNQN: the Identify active namespace list (CNS 02h) of that
# host's controller, as nvme list-ns prints it ("[   0]:0x1"), in decimal.
active_ns() {
    local c h out=''
    c=$(ctrl_of "$1") || return 1
    for h in $(nvme list-ns "$c" 2>/dev/null | sed -n 's/^\[ *[0-9]*\]:0x\([0-9a-fA-F]*\)$/\1/p'); do
        out="$out $((16#$h))"
    done
    echo "${out# }"
}
# expect_active WHO HOSTNQN LIST WHAT
expect_active() {
    local got
    got=$(active_ns "$2")
    if [ "$got" = "$3" ]; then
        pass "$4: host $1 nvme list-ns -> $got"
    else
        fail "$4: host $1 nvme list-ns -> '$got', expected '$3'"
    fi
}

for h in a b; do
    if [ $h = a ]; then connect "$host_a" "$hid_a" "$port_a"; else connect "$host_b" "$hid_b" "$port_b"; fi ||
        { fail "nvme connect as host $h"; finish; }
done
dev_a=$(ns_of "$host_a") || { fail "no block device for host A"; finish; }
dev_b=$(ns_of "$host_b") || { fail "no block device for host B"; finish; }
pass "host A ($hid_a) on $dev_a, host B ($hid_b) on $dev_b: one namespace, two identities"
nvme list 2>&1 | sed 's/^/    | /'

# Masking: namespace 2 is no_auto_visible, with only host A added (config).
expect_active A "$host_a" "1 2" "masked namespace 2 (A added)"
expect_active B "$host_b" "1" "masked namespace 2 (B not added)"
if m_a=$(ns_of "$host_a" 2); then pass "host A has namespace 2 at $m_a"; else fail "host A has no block device for namespace 2"; fi
if m_b=$(dev_now "$host_b" 2); then fail "host B has namespace 2 at $m_b"; else pass "host B has no block device for namespace 2"; fi

rescap=$(nvme id-ns "$dev_a" -n 1 | awk '/^rescap/ { print $3 }')
if [ "$rescap" = 0xff ]; then
    pass "id-ns RESCAP $rescap (every type, IEKEY 1.3, PTPL)"
else
    fail "id-ns RESCAP is '$rescap', expected 0xff"
fi
oncs=$(nvme id-ctrl "$dev_a" | awk '/^oncs/ { print $3 }')
if [ $((oncs & 0x20)) = 32 ]; then pass "id-ctrl ONCS $oncs has Reservations"; else fail "ONCS $oncs"; fi

# io DEV read|write: "ok", "conflict" or "error: ..." as nvme-cli reports it.
head -c 512 /dev/urandom >/tmp/blk
io() {
    local out rc=0
    if [ "$2" = read ]; then
        out=$(nvme read "$1" -n 1 -s 8 -c 0 -z 512 -d /tmp/rd 2>&1) || rc=$?
    else
        out=$(nvme write "$1" -n 1 -s 8 -c 0 -z 512 -d /tmp/blk 2>&1) || rc=$?
    fi
    if [ $rc = 0 ]; then
        echo ok
    elif echo "$out" | grep -qi "conflict"; then
        echo conflict
    else
        echo "error: $(echo "$out" | tr '\n' ' ')"
    fi
}
expect_io() {  # WHO DEV OP EXPECTED WHAT
    local got
    got=$(io "$2" "$3")
    if [ "$got" = "$4" ]; then
        pass "$5: host $1 $3 -> $got"
    else
        fail "$5: host $1 $3 -> $got, expected $4"
    fi
}
run() {  # WHAT COMMAND...: a command that must succeed
    local what=$1 out
    shift
    if out=$("$@" 2>&1); then
        pass "$what"
    else
        fail "$what: $(echo "$out" | tr '\n' ' ')"
    fi
}

run "A registers key $key_a with CPTPL=3 (persist through power loss)" \
    nvme resv-register "$dev_a" -n 1 --nrkey=$key_a --rrega=0 --cptpl=3
run "B registers key $key_b" nvme resv-register "$dev_b" -n 1 --nrkey=$key_b --rrega=0

# Each type held by A: what B (a registrant) may do. A may do everything.
names=(x write-exclusive exclusive-access we-registrants-only ea-registrants-only
    we-all-registrants ea-all-registrants)
b_read=(x ok conflict ok ok ok ok)
b_write=(x conflict conflict ok ok ok ok)
for t in 1 2 3 4 5 6; do
    if ! out=$(nvme resv-acquire "$dev_a" -n 1 --crkey=$key_a --rtype=$t --racqa=0 2>&1); then
        fail "A acquires type $t: $out"
        continue
    fi
    expect_io A "$dev_a" write ok "${names[$t]}"
    expect_io A "$dev_a" read ok "${names[$t]}"
    expect_io B "$dev_b" read "${b_read[$t]}" "${names[$t]}"
    expect_io B "$dev_b" write "${b_write[$t]}" "${names[$t]}"
    run "A releases type $t" nvme resv-release "$dev_a" -n 1 --crkey=$key_a --rtype=$t --rrela=0
done
# The same with B not registered: a non-registrant may only read, and not
# under the exclusive access types.
run "B unregisters" nvme resv-register "$dev_b" -n 1 --crkey=$key_b --rrega=1
n_read=(x ok conflict ok conflict ok conflict)
for t in 1 2 3 4 5 6; do
    if ! out=$(nvme resv-acquire "$dev_a" -n 1 --crkey=$key_a --rtype=$t --racqa=0 2>&1); then
        fail "A acquires type $t: $out"
        continue
    fi
    expect_io "B (not registered)" "$dev_b" read "${n_read[$t]}" "${names[$t]}"
    expect_io "B (not registered)" "$dev_b" write conflict "${names[$t]}"
    run "A releases type $t" nvme resv-release "$dev_a" -n 1 --crkey=$key_a --rtype=$t --rrela=0
done
run "B registers again" nvme resv-register "$dev_b" -n 1 --nrkey=$key_b --rrega=0

# The kernel block layer sees the conflict too (EBADE from dd).
run "A acquires exclusive access" nvme resv-acquire "$dev_a" -n 1 --crkey=$key_a --rtype=2 --racqa=0
if dd if=/tmp/blk of="$dev_b" bs=512 count=1 oflag=direct 2>/tmp/dd.err; then
    fail "dd to $dev_b succeeded under A's exclusive access"
else
    pass "dd to $dev_b refused under A's exclusive access: $(head -n 1 /tmp/dd.err)"
fi

# Report: both registrants, A holding.
report=$(nvme resv-report "$dev_b" -n 1 --eds -o json 2>&1)
# shellcheck disable=SC2001
echo "$report" | sed 's/^/    | /'
if echo "$report" | grep -qE '"regctl" *: *2' && echo "$report" | grep -qE '"rtype" *: *2'; then
    pass "resv-report (EDS): rtype 2, regctl 2"
else
    fail "resv-report does not show rtype 2 with 2 registrants"
fi
if echo "$report" | grep -q "${hid_a//-/}" && echo "$report" | grep -q "${hid_b//-/}"; then
    pass "resv-report lists both host identifiers"
else
    fail "resv-report lacks a host identifier"
fi

# Preempt and abort: B takes over, A is unregistered and told so (log page 80h).
run "B preempts A (preempt and abort, exclusive access)" \
    nvme resv-acquire "$dev_b" -n 1 --crkey=$key_b --prkey=$key_a --rtype=2 --racqa=2
expect_io A "$dev_a" read conflict "after preempt-and-abort"
expect_io A "$dev_a" write conflict "after preempt-and-abort"
expect_io B "$dev_b" write ok "after preempt-and-abort"
ctrl_a=${dev_a%n1}
if nvme get-log "$ctrl_a" --log-id=0x80 --log-len=64 -b >/tmp/log80 2>/dev/null; then
    type=$(od -An -tu1 -j8 -N1 /tmp/log80 | tr -d ' ')
    if [ "$type" = 1 ]; then
        pass "A's Reservation Notification log: registration preempted"
    else
        fail "A's Reservation Notification log type is '$type', expected 1"
    fi
else
    fail "nvme get-log 0x80 on $ctrl_a"
fi
run "A registers again" nvme resv-register "$dev_a" -n 1 --nrkey=$key_a --rrega=0

# A crash of the target: the PTPL file brings it all back.
if ask restart; then
    back=0
    for _ in $(seq 60); do
        if report=$(nvme resv-report "$dev_b" -n 1 --eds -o json 2>/dev/null); then back=1; break; fi
        sleep 1
    done
    if [ $back = 1 ]; then
        pass "host B reconnected after the restart"
        # shellcheck disable=SC2001
        echo "$report" | sed 's/^/    | /'
        if echo "$report" | grep -qE '"rtype" *: *2' && echo "$report" | grep -qE '"regctl" *: *2' &&
            echo "$report" | grep -qE '"ptpls" *: *1'; then
            pass "after kill -9 and restart: B's reservation and both registrations are back (PTPLS 1)"
        else
            fail "after the restart the report is not rtype 2, regctl 2, ptpls 1"
        fi
        for _ in $(seq 30); do io "$dev_a" read | grep -q '^error' || break; sleep 1; done
        expect_io A "$dev_a" write conflict "after the restart"
        expect_io B "$dev_b" write ok "after the restart"
    else
        fail "host B did not get a report within 60 s of the restart"
    fi
fi

run "B clears every registration" nvme resv-release "$dev_b" -n 1 --crkey=$key_b --rrela=1
expect_io A "$dev_a" write ok "after clear"

# Masking live: B added (SPDK's rpc.py on the host side), its kernel gets the
# namespace after the Namespace Attribute Changed event; then removed again.
# The kernel logs "rescanning namespaces" for each such event: A gets none.
ctrl_a_name=$(basename "$(ctrl_of "$host_a")")
rescans_a() { dmesg | grep -c "$ctrl_a_name: rescanning namespaces" || true; }
rescans_before=$(rescans_a)
if ask "ns-add-host $host_b"; then
    if m_b=$(ns_of "$host_b" 2); then
        pass "host B's kernel added namespace 2 at $m_b after nvmf_ns_add_host"
        if dd if="$m_b" of=/dev/null bs=4096 count=4 iflag=direct 2>/tmp/dd.err; then
            pass "host B reads namespace 2 ($m_b)"
        else
            fail "host B cannot read $m_b: $(head -n 1 /tmp/dd.err)"
        fi
    else
        fail "host B got no block device for namespace 2 within 10 s of nvmf_ns_add_host"
    fi
    expect_active B "$host_b" "1 2" "after nvmf_ns_add_host B"
fi
if ask "ns-remove-host $host_b"; then
    if ns_gone "$host_b" 2; then
        pass "host B's kernel removed namespace 2 after nvmf_ns_remove_host"
    else
        fail "host B still has namespace 2 ($(dev_now "$host_b" 2)) 10 s after nvmf_ns_remove_host"
    fi
    expect_active B "$host_b" "1" "after nvmf_ns_remove_host B"
    if m_a=$(dev_now "$host_a" 2); then pass "host A keeps namespace 2 ($m_a)"; else fail "host A lost namespace 2"; fi
fi
if [ "$(rescans_a)" = "$rescans_before" ]; then
    pass "host A's kernel got no namespace change event for B's changes ($ctrl_a_name)"
else
    fail "host A's kernel rescanned namespaces ($ctrl_a_name) for B's changes"
fi
if nvme disconnect -n "$nqn" >/dev/null 2>&1; then pass "nvme disconnect (both hosts)"; else fail "nvme disconnect"; fi
finish
