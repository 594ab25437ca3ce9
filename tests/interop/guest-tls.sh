#!/bin/bash
# Runs inside the linux-host guest (see tests/interop/run-tls): Debian's 6.1
# kernel has kernel TLS (tls.ko, with gcm/aesni) where this machine's may not,
# so the kTLS record layer of our daemon and our initiator is tested here.
#   guest-tls.sh tests        the TLS unit and integration tests (kTLS path),
#                             nvmf-perf --verify with kTLS on and off
#   guest-tls.sh bench        plain TCP vs TLS (kTLS) vs TLS (OpenSSL): 4K
#                             randread QD32 and 128K read QD16 (BENCH_SECONDS)
#   guest-tls.sh serve        the daemon on $GUEST_ADDR until /host/done
#                             appears (a peer outside drives it)
# Files: /guest/mods/*.ko (insmod order in /guest/mods/order), /guest/tls.json
# (daemon config: TLS listener @ADDR@:4420, plain @ADDR@:4421; keys under
# /guest/keys). Prints "PASS [tls] check" /
# "FAIL [tls] check: why" and a closing count; exits 1 when a check failed.
# shellcheck source=/dev/null
. /usr/lib/linux-host/lib.sh
set -u

mode=${1:?usage: guest-tls.sh tests|bench|serve}
nqn=nqn.2016-06.io.spdk:cnode1
host1=nqn.2016-06.io.spdk:host1
host2=nqn.2016-06.io.spdk:host2
sock=/tmp/nvmf.sock
npass=0 nfail=0 daemon=
pass() { echo "PASS [tls] $*"; npass=$((npass + 1)); }
fail() { echo "FAIL [tls] $*"; nfail=$((nfail + 1)); }
finish() {
    if [ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null; then
        kill -TERM "$daemon"
        wait "$daemon" 2>/dev/null
    fi
    if [ "$nfail" != 0 ] && [ -f /tmp/daemon.log ]; then
        echo "--- daemon log (tail) ---"
        tail -n 30 /tmp/daemon.log | sed 's/^/    | /'
    fi
    echo "guest: $npass passed, $nfail failed"
    [ "$nfail" = 0 ]
    exit $?
}

# The kernel's TLS and the AES-GCM it needs (not in the guest image).
while read -r m; do
    insmod "/guest/mods/$m.ko" 2>/dev/null || grep -q "^${m//-/_} " /proc/modules ||
        echo "insmod $m failed" >&2
done </guest/mods/order
if [ -e /proc/net/tls_stat ]; then pass "kernel TLS loaded (tls.ko)"; else fail "no tls.ko"; finish; fi
tls_stat() { awk -v k="$1" '$1 == k { print $2 }' /proc/net/tls_stat; }

start_daemon() {  # ADDR [ARGS]: the TLS listener on ADDR:4420, the plain one on ADDR:4421
    local i addr=$1
    shift
    rm -f "$sock"
    sed "s/@ADDR@/$addr/g" /guest/tls.json >/tmp/tls.json
    nvmf-target --json /tmp/tls.json -r "$sock" -m 0x1 "$@" >>/tmp/daemon.log 2>&1 &
    daemon=$!
    for i in $(seq 100); do
        grep -q "nvmf-target ready" /tmp/daemon.log 2>/dev/null && return 0
        kill -0 "$daemon" 2>/dev/null || break
        sleep 0.1
    done
    fail "daemon did not start"
    finish
}
stop_daemon() {
    kill -TERM "$daemon" && wait "$daemon"
    local rc=$?
    daemon=
    [ $rc = 0 ] || fail "daemon exit $rc on SIGTERM"
}
stat_sum() {  # nvmf_get_stats counter summed over the TCP poll groups
    nvmf-rpc -s "$sock" nvmf_get_stats | tr -d ' \n' | grep -o "\"$1\":[0-9]*" |
        awk -F: '{ s += $2 } END { print s + 0 }'
}
trid() {  # PORT HOSTNQN [SUBNQN]
    echo "trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:$1 subnqn:${3:-$nqn} hostnqn:$2"
}

case $mode in
tests)
    before=$(tls_stat TlsTxSw)
    # tls_tests: the TLS unit tests (TlsPsk, TlsChannel, generated_psk*,
    # concat_session) and integration tests (tls*, concat_test); the
    # integration tests expect the kernel record layer when the kernel has it.
    if out=$(tls_tests 2>&1); then
        pass "tls_tests (unit and integration): $(echo "$out" | grep -o '[0-9]* tests from [0-9]* test suites ran' | head -1)"
    else
        fail "tls_tests: $(echo "$out" | grep -E 'FAILED|Failure' | head -5 | tr '\n' ' ')"
    fi
    after=$(tls_stat TlsTxSw)
    if [ "$after" -gt "$before" ]; then
        pass "kTLS sessions opened by the tests: $((after - before)) (TlsTxSw), $(tls_stat TlsRxSw) RX"
    else
        fail "no kTLS session was opened (TlsTxSw $before -> $after)"
    fi
    start_daemon 127.0.0.1
    for k in ktls no-ktls; do
        args=()
        [ $k = no-ktls ] && args=(--no-ktls)
        for h in "$host1=key32" "$host2=key48"; do
            out=$(nvmf-perf -r "$(trid 4420 "${h%=*}")" --psk "/guest/keys/${h#*=}" "${args[@]}" \
                -q 16 -o 65536 -w randrw -M 50 -t 3 --verify 2>&1)
            if grep -q 'errors 0, mismatches 0' <<<"$out"; then
                pass "nvmf-perf --verify ${h#*=} $k: $(grep -o 'TLS 1.3 [A-Z0-9_]*' <<<"$out"), $(grep -o 'record layer [A-Za-z]*' <<<"$out")"
            else
                fail "nvmf-perf --verify ${h#*=} $k: $(tail -n 3 <<<"$out" | tr '\n' ' ')"
            fi
        done
    done
    n=$(stat_sum tls_kernel)
    [ "$n" -gt 0 ] && pass "the daemon put $n sessions in kTLS" || fail "tls_kernel is 0"
    if nvmf-perf -r "$(trid 4420 $host1)" --psk /guest/keys/wrong -q 1 -o 4096 -w read -t 1 \
        >/tmp/wrong.log 2>&1; then
        fail "a wrong key was accepted"
    else
        pass "wrong key refused: $(grep -o 'TLS handshake.*' /tmp/wrong.log | head -1)"
    fi
    stop_daemon
    ;;
bench)
    secs=${BENCH_SECONDS:-5}
    # The daemon runs on CPU 0; nvmf-perf gets CPU 1 when the guest has one.
    # Neither busy-polls (BENCH_BUSY_POLL_US, default 0): in a small guest two
    # spinning processes starve the kernel threads kTLS sends through.
    core=0x1
    [ "$(nproc)" -ge 2 ] && core=0x2
    spin=${BENCH_BUSY_POLL_US:-0}
    row() {  # LABEL PORT SUBNQN EXTRA...
        local label=$1 port=$2 sub=$3 wl out
        shift 3
        for wl in "4096 randread 32" "131072 read 16"; do
            read -r o w q <<<"$wl"
            out=$(nvmf-perf -r "$(trid "$port" $host1 "$sub")" -q "$q" -o "$o" -w "$w" \
                -t "$secs" -c "$core" --busy-poll-us "$spin" "$@" 2>&1)
            echo "BENCH $label $w-$o-qd$q $(grep '^Total' <<<"$out" | awk '{ print $2, $3, $4, $7 }')"
        done
    }
    start_daemon 127.0.0.1 --busy-poll-us "$spin"
    echo "BENCH columns: case workload IOPS MiB/s avg_us p99_us ($(nproc) CPUs, $secs s, busy poll $spin us)"
    row plain 4421 nqn.2016-06.io.spdk:plain
    row tls-ktls 4420 "$nqn" --psk /guest/keys/key32
    # kTLS off on both sides: the target for new connections, the host per run.
    nvmf-rpc -s "$sock" --raw sock_impl_set_options '{"impl_name": "ssl", "enable_ktls": false}' >/dev/null
    row tls-openssl 4420 "$nqn" --psk /guest/keys/key32 --no-ktls
    stop_daemon
    pass "bench done (nvmf-perf and the daemon share this guest's CPUs)"
    ;;
serve)
    # Reached from outside through QEMU's forward to the guest's own address.
    start_daemon "$GUEST_ADDR"
    pass "daemon on TLS port 4420 of $GUEST_ADDR (enable_ktls on)"
    touch /host/ready
    for _ in $(seq 1200); do
        [ -e /host/done ] && break
        sleep 0.5
    done
    echo "tls_handshakes $(stat_sum tls_handshakes) tls_kernel $(stat_sum tls_kernel) tls_failures $(stat_sum tls_failures)"
    n=$(stat_sum tls_kernel)
    [ "$n" -gt 0 ] && pass "the daemon ran $n sessions in kTLS" || fail "no kTLS session"
    stop_daemon
    ;;
esac
finish
