#!/bin/bash
# Runs inside the linux-host guest (see tests/interop/run-faults): the Linux
# NVMe/TCP host through the target's faults, one after the other.
#   guest-faults.sh PORT NQN_A NQN_B NQN_C
# Phases (the host side makes each change on request, tests/interop/requests.sh):
#   qd1024  connect A with --queue-size=1024, fio randrw iodepth 1024 verify
#   kato    fio on A, the guest's link goes down ("link-down" tells the host
#           side, which waits until the target tore the controller down after
#           the keep-alive timeout), link up: the host reconnects and fio ends
#           with no error
#   remove  fio on B; the host side removes this host from B's allow list
#           ("remove-host": its controller goes), the reconnects are refused,
#           the host is allowed again ("add-host"): it reconnects, fio ends
#           with no error
#   delete  fio on C; the host side deletes C ("delete-c"): fio ends with an
#           error, it does not hang, and the host drops the controller
#   kill    fio on A at QD 128, the tally is printed, then "kill-host": the
#           host side SIGKILLs this guest and checks the target let go of
#           everything (tests/interop/run-faults prints those checks)
# Prints "PASS [phase] check" / "FAIL [phase] check: why" lines and
# "guest: N passed, N failed".
# shellcheck source=/dev/null
. /usr/lib/linux-host/lib.sh
# shellcheck source=tests/interop/requests.sh
. /guest/requests.sh
set -u

port=${1:?usage: guest-faults.sh PORT NQN_A NQN_B NQN_C}
nqn_a=${2:?} nqn_b=${3:?} nqn_c=${4:?}
npass=0 nfail=0 phase=setup
pass() { echo "PASS [$phase] $*"; npass=$((npass + 1)); }
fail() { echo "FAIL [$phase] $*"; nfail=$((nfail + 1)); }
tally() { echo "guest: $npass passed, $nfail failed"; }
finish() {
    tally
    [ "$nfail" = 0 ]
    exit
}
now() { cut -d' ' -f1 /proc/uptime; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# start_fio NAME DEV MIB DEPTH [RW]: fio with crc32c verify in the
# background ($fio_pid), terse output in /tmp/NAME.fio.
start_fio() {
    fio --name="$1" --filename="$2" --direct=1 --ioengine=libaio --rw="${5:-randwrite}" \
        --bs=4k --iodepth="$4" --size="${3}M" --verify=crc32c --do_verify=1 --verify_fatal=1 \
        --output-format=terse --terse-version=3 >"/tmp/$1.fio" 2>&1 &
    fio_pid=$!
}
# fio_result NAME RC: "ok" when fio exited 0 with job error 0, else why.
fio_result() {
    local err
    err=$(grep -m1 '^3;' "/tmp/$1.fio" | cut -d';' -f5)
    if [ "$2" = 0 ] && [ "${err:-x}" = 0 ]; then echo ok; else
        echo "exit $2, error '${err:-none}': $(grep -iE 'error|verify|bad' "/tmp/$1.fio" | head -n 3 | tr '\n' ' ')"
    fi
}
# wait_pid PID SECONDS: true when PID ended within SECONDS.
wait_pid() {
    local _
    for _ in $(seq "$2"); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 1
    done
    ! kill -0 "$1" 2>/dev/null
}
connect() {  # connect NQN [OPTS...]
    local nqn=$1
    shift
    if nvme connect -t tcp -a "$HOST_ADDR" -s "$port" -n "$nqn" "$@" >/tmp/connect.out 2>&1; then
        pass "nvme connect ${nqn##*:} $*"
    else
        fail "nvme connect ${nqn##*:} $*: $(tr '\n' ' ' </tmp/connect.out)"
        return 1
    fi
}

dmesg -c >/dev/null 2>&1 || true

# ---- qd1024: queues of 1024 entries, verified.
phase=qd1024
connect "$nqn_a" --queue-size=1024 --nr-io-queues=1 --keep-alive-tmo=5 \
    --ctrl-loss-tmo=60 --reconnect-delay=1 || finish
dev_a=$(nvme_ns_dev "$nqn_a" 1 10) || { fail "A's namespace did not appear"; finish; }
ctrl_a=$(nvme_ctrl_dev "$nqn_a")
sq=$(cat "/sys/class/nvme/${ctrl_a##*/}/sqsize" 2>/dev/null || echo none)
if [ "$sq" = 1023 ]; then pass "$ctrl_a sqsize $sq (1024 entries)"; else fail "$ctrl_a sqsize '$sq', want 1023"; fi
nr=$(cat "/sys/block/${dev_a##*/}/queue/nr_requests" 2>/dev/null || echo none)
echo "    | ${dev_a##*/} nr_requests $nr"
t0=$(now)
start_fio qd "$dev_a" 24 1024 randrw
rc=0
wait "$fio_pid" || rc=$?
r=$(fio_result qd $rc)
if [ "$r" = ok ]; then pass "fio randrw 4k iodepth 1024 24 MiB verify=crc32c: no error ($(since "$t0") s)"; else fail "fio iodepth 1024: $r"; fi

# ---- kato: the host goes silent (link down); the target expires it.
phase=kato
dmesg -c >/dev/null 2>&1 || true
start_fio kato "$dev_a" 16 16
sleep 2
if ! kill -0 "$fio_pid" 2>/dev/null; then fail "fio ended before the link went down: $(head -c 300 /tmp/kato.fio)"; fi
ip link set eth0 down
t0=$(now)
if ask link-down; then
    pass "the target tore the silent host's controller down ($(since "$t0") s after the link went down)"
fi
ip link set eth0 up
t0=$(now)
reconnected=0
for _ in $(seq 60); do
    if dmesg | grep -qE 'nvme[0-9]+: Successfully reconnected'; then reconnected=1; break; fi
    sleep 1
done
if [ $reconnected = 1 ]; then pass "the host reconnected $(since "$t0") s after the link came back"; else
    fail "no reconnect 60 s after the link came back"
    dmesg | grep -i nvme | tail -n 10 | sed 's/^/    | /'
fi
rc=0
wait_pid "$fio_pid" 120 || { fail "fio still runs 120 s after the reconnect"; kill "$fio_pid"; }
wait "$fio_pid" || rc=$?
r=$(fio_result kato $rc)
if [ "$r" = ok ]; then pass "fio randwrite verify=crc32c across the keep-alive expiry: no error"; else fail "fio: $r"; fi

# ---- remove: this host loses its allow-list entry under I/O, then regains it.
phase=remove
dmesg -c >/dev/null 2>&1 || true
connect "$nqn_b" --nr-io-queues=1 --ctrl-loss-tmo=60 --reconnect-delay=1 || finish
dev_b=$(nvme_ns_dev "$nqn_b" 1 10) || { fail "B's namespace did not appear"; finish; }
start_fio remove "$dev_b" 16 32
sleep 2
ask remove-host
sleep 4
if dmesg | grep -qiE 'is not allowed|Connect Invalid Host|Connect command failed'; then
    pass "the reconnects are refused while the host is not allowed: $(dmesg | grep -iE 'is not allowed|Connect Invalid Host|Connect command failed' | tail -n 1 | tr -s ' ')"
else
    fail "no refused reconnect in the kernel log"
    dmesg | grep -i nvme | tail -n 10 | sed 's/^/    | /'
fi
ask add-host
t0=$(now)
reconnected=0
for _ in $(seq 30); do
    if dmesg | grep -qE 'nvme[0-9]+: Successfully reconnected'; then reconnected=1; break; fi
    sleep 1
done
if [ $reconnected = 1 ]; then pass "the host reconnected $(since "$t0") s after it was allowed again"; else fail "no reconnect 30 s after add-host"; fi
rc=0
wait_pid "$fio_pid" 120 || { fail "fio still runs 120 s later"; kill "$fio_pid"; }
wait "$fio_pid" || rc=$?
r=$(fio_result remove $rc)
if [ "$r" = ok ]; then pass "fio randwrite verify=crc32c across the removal and re-add: no error"; else fail "fio: $r"; fi
if nvme disconnect -n "$nqn_b" >/dev/null 2>&1; then pass "nvme disconnect ${nqn_b##*:}"; else fail "nvme disconnect ${nqn_b##*:}"; fi

# ---- delete: the subsystem goes with I/O in flight.
phase=delete
connect "$nqn_c" --nr-io-queues=1 --ctrl-loss-tmo=5 --reconnect-delay=1 || finish
dev_c=$(nvme_ns_dev "$nqn_c" 1 10) || { fail "C's namespace did not appear"; finish; }
start_fio delete "$dev_c" 64 32
sleep 2
t0=$(now)
ask delete-c
rc=0
if wait_pid "$fio_pid" 60; then
    wait "$fio_pid" || rc=$?
    if [ "$rc" != 0 ]; then pass "fio ended with an error $(since "$t0") s after the deletion (exit $rc)"; else
        fail "fio ended without an error although its subsystem was deleted"
    fi
else
    fail "fio still runs 60 s after its subsystem was deleted"
    kill "$fio_pid"
fi
gone=0
for _ in $(seq 30); do
    nvme_ctrl_dev "$nqn_c" >/dev/null 2>&1 || { gone=1; break; }
    sleep 1
done
if [ $gone = 1 ]; then pass "the host dropped ${nqn_c##*:}'s controller after ctrl-loss-tmo"; else fail "${nqn_c##*:}'s controller is still there"; fi

# ---- kill: the host dies under load; the host side checks the target.
phase="kill"
start_fio kill "$dev_a" 64 128
sleep 3
if kill -0 "$fio_pid" 2>/dev/null; then pass "fio iodepth 128 running on A"; else fail "fio ended early: $(head -c 300 /tmp/kill.fio)"; fi
tally
sleep 1  # the lines reach the host before the guest dies
ask kill-host
# Only reached when the host side did not kill the guest.
fail "still alive after kill-host"
finish
