#!/bin/bash
# Runs inside the linux-host guest (see tests/interop/run-rdma): our daemon
# runs in the guest too, on soft-RoCE (rdma_rxe on eth0), and the guest
# kernel's nvme-rdma (and nvme-tcp) host uses it over the guest's own address.
#   guest-rdma.sh NQN_A NQN_B
# NQN_A listens on RDMA $GUEST_ADDR:4420; NQN_B on RDMA 4420 and TCP 4421 (one
# subsystem, two transports: multipath). Files: /guest/rdma.json (config).
# Environment: MIB (dd size, default 16), FIO_MIB (fio verify size, default 8).
# Prints "PASS [rdma] check" / "FAIL [rdma] check: why" and a closing count;
# exits 1 when a check failed.
# shellcheck source=/dev/null
. /usr/lib/linux-host/lib.sh
set -u

nqn_a=${1:?usage: guest-rdma.sh NQN_A NQN_B}
nqn_b=${2:?}
disc_nqn=nqn.2014-08.org.nvmexpress.discovery
mib=${MIB:-16}
fio_mib=${FIO_MIB:-8}
rport=4420 tport=4421
cfg=/guest/rdma.json
sock=/tmp/nvmf.sock
npass=0 nfail=0 phase=rdma daemon=

pass() { echo "PASS [$phase] $*"; npass=$((npass + 1)); }
fail() { echo "FAIL [$phase] $*"; nfail=$((nfail + 1)); }
check() {
    local name=$1 out
    shift
    if out=$("$@" 2>&1); then
        pass "$name"
    else
        fail "$name: $(echo "$out" | tail -n 5 | tr '\n' ' ')"
        return 1
    fi
}
expect() {
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: got '$2', want '$3'"; fi
}
finish() {
    if [ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null; then kill -KILL "$daemon"; fi
    if [ "$nfail" != 0 ] && [ -f /tmp/daemon.log ]; then
        echo "--- daemon log (tail) ---"
        tail -n 40 /tmp/daemon.log | sed 's/^/    | /'
    fi
    echo "guest: $npass passed, $nfail failed"
    [ "$nfail" = 0 ]
    exit $?
}

# start_daemon CONFIG: runs nvmf-target in the background, waits until the
# whole configuration is applied (its "ready" line) with the RDMA listener up.
start_daemon() {
    rm -f "$sock"
    local from=$(($(wc -l </tmp/daemon.log) + 1))
    nvmf-target --json "$1" -r "$sock" -m 0x1 --busy-poll-us 0 >>/tmp/daemon.log 2>&1 &
    daemon=$!
    local i
    for i in $(seq 100); do
        if ! kill -0 "$daemon" 2>/dev/null; then
            fail "daemon exited at start-up"
            daemon=
            return 1
        fi
        if tail -n +"$from" /tmp/daemon.log | grep -q 'nvmf-target ready'; then
            tail -n +"$from" /tmp/daemon.log | grep -q "RDMA listening on $GUEST_ADDR:$rport" &&
                return 0
            fail "daemon is ready but not listening on RDMA $GUEST_ADDR:$rport"
            return 1
        fi
        sleep 0.2
    done
    fail "daemon did not listen on RDMA $GUEST_ADDR:$rport within 20 s"
    return 1
}

stop_daemon() {
    [ -n "$daemon" ] || return 0
    kill -TERM "$daemon"
    local i rc=0
    for i in $(seq 100); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$daemon" 2>/dev/null; then
        fail "daemon did not exit within 10 s of SIGTERM"
        kill -KILL "$daemon"
    fi
    wait "$daemon" || rc=$?
    case $rc in
        0|143) pass "daemon exited cleanly on SIGTERM (exit $rc)" ;;
        *) fail "daemon exit status $rc after SIGTERM" ;;
    esac
    daemon=
}

# entries OUT SUBNQN TRTYPE: the number of discovery entries for SUBNQN over TRTYPE.
entries() {
    echo "$1" | awk -v n="$2" -v t="$3" '
        /^=====Discovery Log Entry/ { if (tt == t && nn == n) c++; tt = ""; nn = "" }
        $1 == "trtype:" { tt = $2 } $1 == "subnqn:" { nn = $2 }
        END { if (tt == t && nn == n) c++; print c + 0 }'
}
# entry_field OUT SUBNQN TRTYPE FIELD: a field (the rest of its line) of that entry.
entry_field() {
    echo "$1" | awk -v n="$2" -v t="$3" -v f="$4:" '
        function flush() { if (!done && tt == t && nn == n && v != "") { print v; done = 1 } }
        /^=====Discovery Log Entry/ { flush(); tt = ""; nn = ""; v = "" }
        $1 == "trtype:" { tt = $2 } $1 == "subnqn:" { nn = $2 }
        $1 == f { v = $0; sub(/^[^:]*: */, "", v) }
        END { flush() }'
}

wait_gone() {
    local i
    for i in $(seq 50); do
        nvme_ctrl_dev "$1" >/dev/null 2>&1 || return 0
        sleep 0.2
    done
    return 1
}

trap finish EXIT

# --- soft-RoCE -------------------------------------------------------------------
phase=setup
modprobe -a crc32_generic rdma_rxe ib_uverbs rdma_ucm nvme-rdma 2>&1 || true
check "rdma link add rxe0 (soft-RoCE on eth0)" rdma link add rxe0 type rxe netdev eth0 || exit 1
# The user-space provider (librxe) must be found by the libibverbs our daemon uses.
if ibv_devices 2>/dev/null | grep -qw rxe0; then
    pass "verbs: rxe0 visible to user space (librxe provider loaded)"
else
    fail "verbs: ibv_devices does not list rxe0 (no librxe provider?)"
    exit 1
fi
: >/tmp/daemon.log
start_daemon "$cfg" || exit 1
pass "daemon listens on RDMA $GUEST_ADDR:$rport and TCP $GUEST_ADDR:$tport"
grep -E 'rdma|RDMA' /tmp/daemon.log | sed 's/^/    | /'

# --- control plane ---------------------------------------------------------------
out=$(nvmf-rpc -s "$sock" nvmf_get_transports 2>&1)
if echo "$out" | grep -q '"trtype": "RDMA"' && echo "$out" | grep -q '"max_srq_depth"'; then
    pass "nvmf_get_transports lists RDMA with its options"
else
    fail "nvmf_get_transports: $(echo "$out" | tr '\n' ' ' | cut -c1-300)"
fi

# --- scenario 1: discovery and I/O over RDMA --------------------------------------
phase=rdma
out=$(nvme discover -t rdma -a "$GUEST_ADDR" -s "$rport" 2>&1)
rc=$?
echo "$out" | sed 's/^/    | /'
if [ $rc = 0 ]; then pass "nvme discover -t rdma"; else fail "nvme discover -t rdma (exit $rc)"; fi
expect "discovery: $nqn_a over rdma" "$(entries "$out" "$nqn_a" rdma)" 1
expect "discovery: $nqn_b over rdma" "$(entries "$out" "$nqn_b" rdma)" 1
expect "discovery: $nqn_b over tcp" "$(entries "$out" "$nqn_b" tcp)" 1
expect "discovery: the discovery subsystem (rdma)" "$(entries "$out" "$disc_nqn" rdma)" 1
expect "discovery: rdma adrfam" "$(entry_field "$out" "$nqn_a" rdma adrfam)" ipv4
expect "discovery: rdma traddr" "$(entry_field "$out" "$nqn_a" rdma traddr)" "$GUEST_ADDR"
expect "discovery: rdma trsvcid" "$(entry_field "$out" "$nqn_a" rdma trsvcid)" "$rport"
expect "discovery: rdma treq" "$(entry_field "$out" "$nqn_a" rdma treq)" \
    "not specified, sq flow control disable supported"
expect "discovery: rdma_qptype" "$(entry_field "$out" "$nqn_a" rdma rdma_qptype)" connected
expect "discovery: rdma_prtype" "$(entry_field "$out" "$nqn_a" rdma rdma_prtype)" "not specified"
expect "discovery: rdma_cms" "$(entry_field "$out" "$nqn_a" rdma rdma_cms)" rdma-cm
expect "discovery: tcp entry sectype" "$(entry_field "$out" "$nqn_b" tcp sectype)" none
expect "discovery: tcp entry trsvcid" "$(entry_field "$out" "$nqn_b" tcp trsvcid)" "$tport"

if check "nvme connect -t rdma ${nqn_a##*:}" nvme connect -t rdma -a "$GUEST_ADDR" -s "$rport" \
    -n "$nqn_a"; then
    if dev=$(nvme_ns_dev "$nqn_a" 1 10); then
        pass "namespace $dev appeared"
        nvme list 2>&1 | sed 's/^/    | /'
        ctrl=$(nvme_ctrl_dev "$nqn_a")
        expect "controller transport" "$(cat "/sys/class/nvme/${ctrl#/dev/}/transport")" rdma
        idc=$(nvme id-ctrl "$ctrl" 2>&1)
        echo "$idc" | grep -E '^(sgls|ioccsz|mdts|maxcmd|subnqn) ' | sed 's/^/    | /'
        sgls=$(echo "$idc" | sed -n 's/^sgls *: *//p')
        if [ $((sgls & 0x4)) != 0 ]; then
            pass "id-ctrl: SGLS has Keyed SGL Data Block ($sgls)"
        else
            fail "id-ctrl: SGLS $sgls lacks Keyed SGL Data Block"
        fi
        expect "id-ctrl: ioccsz (64 + 4096 in-capsule bytes)" \
            "$(echo "$idc" | sed -n 's/^ioccsz *: *//p')" 260
        # Idle with a connection up: the reactor sleeps in epoll_wait on the
        # completion channel (no busy polling): well under 10% of a CPU.
        c0=$(awk '{print $14 + $15}' "/proc/$daemon/stat")
        sleep 3
        c1=$(awk '{print $14 + $15}' "/proc/$daemon/stat")
        if [ -z "$c0" ] || [ -z "$c1" ] || [ "$c0" -le 0 ]; then
            fail "idle check: no CPU times for pid $daemon ('$c0', '$c1')"
        elif [ $((c1 - c0)) -lt 30 ]; then
            pass "idle daemon sleeps: $((c1 - c0)) CPU ticks in 3 s with a connection up ($c1 in all)"
        else
            fail "idle daemon used $((c1 - c0)) CPU ticks in 3 s (busy polling?)"
        fi
        check "dd O_DIRECT $mib MiB bs=1M write, read, compare" dd_verify "$dev" "$mib"
        # 4 KiB writes fit in the capsule (in-capsule data); 64 KiB ones are RDMA READs.
        dd if=/dev/urandom of=/tmp/small bs=4k count=64 2>/dev/null
        if dd if=/tmp/small of="$dev" bs=4k seek=100 oflag=direct 2>/dev/null &&
            dd if="$dev" of=/tmp/small.back bs=4k skip=100 count=64 iflag=direct 2>/dev/null &&
            cmp -s /tmp/small /tmp/small.back; then
            pass "dd O_DIRECT bs=4k (in-capsule writes) read back equal"
        else
            fail "dd O_DIRECT bs=4k (in-capsule writes): data differs or I/O failed"
        fi
        if res=$(fio --name=verify --filename="$dev" --direct=1 --ioengine=libaio \
            --rw=randwrite --bs=4k --bsrange=4k-128k --iodepth=16 --size="${fio_mib}M" \
            --verify=crc32c --do_verify=1 --output-format=terse --terse-version=3 2>&1); then
            pass "fio randwrite 4k-128k iodepth 16 $fio_mib MiB verify=crc32c ($(echo "$res" |
                awk -F';' 'NF > 49 {print $49 " write IOPS"}'))"
        else
            fail "fio randwrite+verify: $(echo "$res" | grep -iE 'verify|error|bad' | head -n 3 |
                tr '\n' ' ')"
        fi
        # The Linux host registers a key per command and asks for its remote
        # invalidation: our SENDs must have carried it.
        st=$(nvmf-rpc -s "$sock" nvmf_get_stats 2>&1)
        for c in rdma_reads rdma_writes send_with_invalidate; do
            n=$(echo "$st" | sed -n "s/.*\"$c\": \([0-9]*\).*/\1/p" | head -n 1)
            if [ "${n:-0}" -gt 0 ]; then pass "nvmf_get_stats: $c $n"; else
                fail "nvmf_get_stats: $c is ${n:-missing}"
            fi
        done
        dd if=/dev/urandom of=/tmp/marker bs=64k count=16 2>/dev/null
        dd if=/tmp/marker of="$dev" bs=64k count=16 oflag=direct 2>/dev/null
    else
        fail "no namespace of $nqn_a appeared"
    fi
    check "nvme disconnect ${nqn_a##*:}" nvme disconnect -n "$nqn_a"
    if wait_gone "$nqn_a"; then pass "controller gone after disconnect"; else
        fail "a controller of $nqn_a is still there"
    fi
    if check "nvme connect -t rdma again" nvme connect -t rdma -a "$GUEST_ADDR" -s "$rport" \
        -n "$nqn_a"; then
        if dev=$(nvme_ns_dev "$nqn_a" 1 10) &&
            dd if="$dev" of=/tmp/marker.back bs=64k count=16 iflag=direct 2>/dev/null &&
            cmp -s /tmp/marker /tmp/marker.back; then
            pass "reconnect: data written before the disconnect read back"
        else
            fail "reconnect: marker differs or no device"
        fi
        nvme disconnect -n "$nqn_a" >/dev/null 2>&1
        wait_gone "$nqn_a" || fail "second disconnect left a controller"
    fi
fi

# --- scenario 2: one subsystem over TCP and RDMA at once -------------------------
phase=multi
out=$(nvme discover -t tcp -a "$GUEST_ADDR" -s "$tport" 2>&1)
if [ $? = 0 ] && [ "$(entries "$out" "$nqn_b" rdma)" = 1 ] && [ "$(entries "$out" "$nqn_b" tcp)" = 1 ]
then
    pass "discovery over tcp lists $nqn_b on rdma and tcp"
else
    fail "discovery over tcp: $(echo "$out" | grep -E 'trtype|subnqn' | tr '\n' ' ')"
fi
check "nvme connect -t tcp ${nqn_b##*:}" nvme connect -t tcp -a "$GUEST_ADDR" -s "$tport" -n "$nqn_b"
check "nvme connect -t rdma ${nqn_b##*:}" nvme connect -t rdma -a "$GUEST_ADDR" -s "$rport" \
    -n "$nqn_b"
subsys=$(nvme list-subsys 2>&1)
echo "$subsys" | sed 's/^/    | /'
paths=$(echo "$subsys" | awk -v n="$nqn_b" '/NQN=/ { on = index($0, n) > 0 } on && / (tcp|rdma) / { print $3 }' |
    sort | tr '\n' ' ')
expect "nvme list-subsys: two paths (rdma, tcp) to ${nqn_b##*:}" "$paths" "rdma tcp "
live=$(echo "$subsys" | awk -v n="$nqn_b" '/NQN=/ { on = index($0, n) > 0 } on && /live/ { c++ } END { print c + 0 }')
expect "both paths live" "$live" 2
if dev=$(nvme_ns_dev "$nqn_b" 1 10); then
    # Native NVMe multipath: one head device (nvmeXnY), a hidden path device
    # (nvmeXcZnY) per controller.
    head=${dev#/dev/}
    expect "one namespace device $dev with two path devices" \
        "$(ls /sys/block | grep -c "^${head%n*}c[0-9]*n${head##*n}\$")" 2
    check "dd O_DIRECT $mib MiB through the multipath device" dd_verify "$dev" "$mib"
else
    fail "no namespace of $nqn_b appeared"
fi
check "nvme disconnect ${nqn_b##*:} (both paths)" nvme disconnect -n "$nqn_b"
wait_gone "$nqn_b" && pass "both controllers gone" || fail "a controller of $nqn_b is still there"

# --- save_config round trip ------------------------------------------------------
phase=config
if nvmf-rpc -s "$sock" save_config >/tmp/saved.json 2>/tmp/save.err; then
    if grep -q '"trtype": "RDMA"' /tmp/saved.json; then
        pass "save_config has the RDMA transport and listeners"
    else
        fail "save_config lacks RDMA"
    fi
    stop_daemon
    if start_daemon /tmp/saved.json; then
        pass "daemon restarted from the saved config"
        out=$(nvme discover -t rdma -a "$GUEST_ADDR" -s "$rport" 2>&1)
        expect "discovery after restart: $nqn_b over rdma and tcp" \
            "$(entries "$out" "$nqn_b" rdma) $(entries "$out" "$nqn_b" tcp)" "1 1"
        nvmf-rpc -s "$sock" save_config >/tmp/saved2.json 2>/dev/null
        if cmp -s /tmp/saved.json /tmp/saved2.json; then
            pass "save_config after the restart is identical"
        else
            fail "save_config changed across a restart"
        fi
    fi
else
    fail "save_config: $(cat /tmp/save.err)"
fi

# --- per-QP receive queues, no WR batching --------------------------------------
phase=no_srq
stop_daemon
if [ -f /tmp/saved.json ]; then
    sed -e 's/"no_srq": false/"no_srq": true/' -e 's/"no_wr_batching": false/"no_wr_batching": true/' \
        /tmp/saved.json >/tmp/nosrq.json
    if start_daemon /tmp/nosrq.json; then
        if nvmf-rpc -s "$sock" nvmf_get_transports 2>&1 | grep -q '"no_srq": true'; then
            pass "transport runs with no_srq and no_wr_batching"
        else
            fail "no_srq did not take effect"
        fi
        if check "nvme connect -t rdma (no SRQ)" nvme connect -t rdma -a "$GUEST_ADDR" \
            -s "$rport" -n "$nqn_a"; then
            if dev=$(nvme_ns_dev "$nqn_a" 1 10); then
                check "dd O_DIRECT $mib MiB without SRQ" dd_verify "$dev" "$mib"
                if res=$(fio --name=verify --filename="$dev" --direct=1 --ioengine=libaio \
                    --rw=randwrite --bsrange=4k-128k --iodepth=16 --size=4M --verify=crc32c \
                    --do_verify=1 --output-format=terse --terse-version=3 2>&1); then
                    pass "fio randwrite 4k-128k verify=crc32c without SRQ"
                else
                    fail "fio without SRQ: $(echo "$res" | grep -iE 'verify|error' | head -n 3 |
                        tr '\n' ' ')"
                fi
            else
                fail "no namespace appeared (no SRQ)"
            fi
            check "nvme disconnect (no SRQ)" nvme disconnect -n "$nqn_a"
            wait_gone "$nqn_a" || fail "a controller is still there (no SRQ)"
        fi
    fi
fi

# --- shutdown --------------------------------------------------------------------
phase=shutdown
stop_daemon
if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' /tmp/daemon.log; then
    fail "sanitizer report in the daemon log"
fi

# --- our own RDMA initiator (tests/integration/rdma) -----------------------------
phase=initiator
if [ -x /usr/local/bin/rdma_integration_tests ]; then
    NVMF_TEST_RDMA_ADDR=$GUEST_ADDR rdma_integration_tests >/tmp/gtest.log 2>&1
    rc=$?
    grep -E '^\[ +(OK|FAILED|SKIPPED) +\] rdma_test\.[a-z_]+ \([0-9]+ ms\)$' /tmp/gtest.log |
        while read -r _ state _ name _; do
            case $state in
                OK) echo "PASS [initiator] $name" ;;
                *) echo "FAIL [initiator] $name: ${state%]}" ;;
            esac
        done >/tmp/gtest.results
    cat /tmp/gtest.results
    npass=$((npass + $(grep -c '^PASS' /tmp/gtest.results)))
    nfail=$((nfail + $(grep -c '^FAIL' /tmp/gtest.results)))
    if [ "$rc" != 0 ] || ! grep -q '^PASS' /tmp/gtest.results; then
        fail "rdma_integration_tests exit $rc"
        grep -A8 'Failure' /tmp/gtest.log | head -n 80 | sed 's/^/    | /'
    fi
fi
check "rdma link delete rxe0" rdma link delete rxe0
