#!/bin/bash
# Runs inside the linux-host guest (see tests/interop/run): a real Linux
# NVMe/TCP host against our target on this guest's $HOST_ADDR:PORT.
#   guest-check.sh PORT NQN_A NQN_B
# Environment (set by tests/interop/run): EXPECT_SN_A, EXPECT_MN_A, EXPECT_SN_B,
# EXPECT_MN_B, EXPECT_FR, EXPECT_MDTS; MODES (default "plain digest"), MIB (dd
# size cap per namespace, default 64), DIGEST_MIB (the same with digests, default
# 16: emulated CRC32C is slow and the data path is the same), FIO_MIB (fio
# verify size, default 16).
# Prints one "PASS [mode] check" or "FAIL [mode] check: why" line per check and
# ends with "guest: N passed, N failed"; exits 1 when a check failed.
# shellcheck source=/dev/null
. /usr/lib/linux-host/lib.sh
set -u

port=${1:?usage: guest-check.sh PORT NQN_A NQN_B}
nqn_a=${2:?}
nqn_b=${3:?}
disc_nqn=nqn.2014-08.org.nvmexpress.discovery
modes=${MODES:-plain digest}
fio_mib=${FIO_MIB:-16}
npass=0 nfail=0 mode=-

pass() { echo "PASS [$mode] $*"; npass=$((npass + 1)); }
fail() { echo "FAIL [$mode] $*"; nfail=$((nfail + 1)); }
# check NAME CMD...: runs CMD, PASS or FAIL (with its output) by its exit status.
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
# expect NAME GOT WANT: PASS when equal, else FAIL showing both.
expect() {
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: got '$2', want '$3'"; fi
}
# field NAME < id-ctrl output: the value of "NAME : value", trailing blanks cut.
field() { sed -n "s/^$1 *: *//p" | sed 's/ *$//' | head -n 1; }

# The namespaces: "nqn nsid block_size bytes" (a list, not a pipe: the guest
# has no /dev/fd for process substitution, and loop bodies must keep stdin).
ns_list=("$nqn_a 1 512 $((64 << 20))" "$nqn_a 2 4096 $((96 << 20))" "$nqn_b 1 4096 $((32 << 20))")

check_discovery() {
    local out rc=0 want got
    # shellcheck disable=SC2086
    out=$(nvme discover -t tcp -a "$HOST_ADDR" -s "$port" $opts 2>&1) || rc=$?
    # shellcheck disable=SC2001
    sed 's/^/    | /' <<<"$out"
    if [ $rc != 0 ]; then fail "nvme discover (exit $rc)"; return; fi
    pass "nvme discover"
    expect "discovery: 3 entries" "$(echo "$out" | grep -c '^subnqn:')" 3
    want=$(printf '%s\n' "$disc_nqn" "$nqn_a" "$nqn_b" | sort | tr '\n' ' ')
    got=$(echo "$out" | awk '$1 == "subnqn:" {print $2}' | sort | tr '\n' ' ')
    expect "discovery: subnqns" "$got" "$want"
    got=$(echo "$out" | awk '$1 == "trsvcid:" {print $2}' | sort -u | tr '\n' ' ')
    expect "discovery: trsvcid $port" "$got" "$port "
    got=$(echo "$out" | awk '$1 == "traddr:" {print $2}' | sort -u | tr '\n' ' ')
    expect "discovery: traddr 127.0.0.1" "$got" "127.0.0.1 "
    got=$(echo "$out" | awk '$1 == "trtype:" {print $2}' | sort -u | tr '\n' ' ')
    expect "discovery: trtype tcp" "$got" "tcp "
    got=$(echo "$out" | awk '$1 == "subtype:" && $0 ~ /discovery/ {n++} END {print n + 0}')
    expect "discovery: one discovery subsystem entry" "$got" 1
}

connect() {
    # shellcheck disable=SC2086
    check "nvme connect ${1##*:}" nvme connect -t tcp -a "$HOST_ADDR" -s "$port" -n "$1" $opts
}

disconnect() {
    local out i
    if ! out=$(nvme disconnect -n "$1" 2>&1); then
        fail "nvme disconnect ${1##*:}: $out"
        return 1
    fi
    for i in $(seq 50); do
        nvme_ctrl_dev "$1" >/dev/null 2>&1 || { pass "nvme disconnect ${1##*:}"; return 0; }
        sleep 0.2
    done
    fail "nvme disconnect ${1##*:}: a controller is still there"
}

check_id_ctrl() {
    local nqn=$1 sn=$2 mn=$3 ctrl out name=${1##*:}
    ctrl=$(nvme_ctrl_dev "$nqn") || { fail "id-ctrl $name: no controller"; return; }
    if ! out=$(nvme id-ctrl "$ctrl" 2>&1); then fail "nvme id-ctrl $name: $out"; return; fi
    echo "$out" | grep -E '^(vid|ssvid|sn|mn|fr|cntlid|ver|mdts|nn|sgls|subnqn|ioccsz|iorcsz|kas|maxcmd) ' |
        sed 's/^/    | /'
    expect "id-ctrl $name: sn" "$(echo "$out" | field sn)" "$sn"
    expect "id-ctrl $name: mn" "$(echo "$out" | field mn)" "$mn"
    expect "id-ctrl $name: fr" "$(echo "$out" | field fr)" "$EXPECT_FR"
    expect "id-ctrl $name: subnqn" "$(echo "$out" | field subnqn)" "$nqn"
    expect "id-ctrl $name: mdts" "$(echo "$out" | field mdts)" "$EXPECT_MDTS"
}

# check_ns NQN NSID BS BYTES: the block device's format, size and nvme list line.
check_ns() {
    local nqn=$1 nsid=$2 bs=$3 bytes=$4 dev b v list fmt name="${1##*:} ns$2"
    dev=$(nvme_ns_dev "$nqn" "$nsid" 10) || { fail "$name: no block device appeared"; return 1; }
    b=${dev#/dev/}
    pass "$name: $dev appeared"
    expect "$name: logical_block_size $bs" "$(cat "/sys/block/$b/queue/logical_block_size")" "$bs"
    expect "$name: size $bytes" "$(($(cat "/sys/block/$b/size") * 512))" "$bytes"
    list=$(nvme list 2>&1 | grep "^$dev ")
    echo "    | $list"
    if [ "$bs" = 512 ]; then fmt=' 512 +B '; else fmt=' 4 +KiB '; fi
    if echo "$list" | grep -Eq "$fmt"; then
        pass "$name: nvme list format"
    else
        fail "$name: nvme list line lacks /$fmt/"
    fi
    v=$(nvme id-ns "$dev" 2>&1 | grep 'in use')
    if [ "$bs" = 512 ]; then fmt='lbads:9 '; else fmt='lbads:12 '; fi
    if echo "$v" | grep -q "$fmt"; then
        pass "$name: id-ns LBA format in use"
    else
        fail "$name: id-ns LBA format in use: '$v', want $fmt"
    fi
}

# dd_check NQN NSID BS_LABEL BS: O_DIRECT write of random data, read back, compare.
dd_check() {
    local nqn=$1 nsid=$2 bsl=$3 bs=$4 dev mib count name="${1##*:} ns$2"
    dev=$(nvme_ns_dev "$nqn" "$nsid" 1) || { fail "$name: dd bs=$bsl: no device"; return; }
    mib=$(($(blockdev --getsize64 "$dev") >> 20))
    [ "$mib" -le "$mib_cap" ] || mib=$mib_cap
    count=$((mib * 1048576 / bs))
    dd if=/dev/urandom of=/tmp/pat bs=1M count="$mib" 2>/dev/null
    if ! dd if=/tmp/pat of="$dev" bs="$bs" count="$count" oflag=direct 2>/tmp/dd.err; then
        fail "$name: dd write bs=$bsl: $(tail -n 2 /tmp/dd.err | tr '\n' ' ')"; return
    fi
    if ! dd if="$dev" of=/tmp/back bs="$bs" count="$count" iflag=direct 2>/tmp/dd.err; then
        fail "$name: dd read bs=$bsl: $(tail -n 2 /tmp/dd.err | tr '\n' ' ')"; return
    fi
    if cmp /tmp/pat /tmp/back >/tmp/cmp.out 2>&1; then
        pass "$name: dd bs=$bsl $mib MiB written and read back equal"
    else
        fail "$name: dd bs=$bsl: data differs: $(head -n 1 /tmp/cmp.out)"
    fi
    rm -f /tmp/pat /tmp/back
}

# compare_check NQN NSID BS: nvme compare (opcode 05h) of 8 blocks just written:
# equal succeeds, one byte off fails with Compare Failure (SCT 2h, SC 85h).
compare_check() {
    local nqn=$1 nsid=$2 bs=$3 dev out rc=0 name="${1##*:} ns$2"
    dev=$(nvme_ns_dev "$nqn" "$nsid" 1) || { fail "$name: compare: no device"; return; }
    dd if=/dev/urandom of=/tmp/cmp.pat bs="$bs" count=8 2>/dev/null
    dd if=/tmp/cmp.pat of="$dev" bs="$bs" seek=16 count=8 oflag=direct 2>/dev/null
    out=$(nvme compare "$dev" -s 16 -c 7 -z $((8 * bs)) -d /tmp/cmp.pat 2>&1) || rc=$?
    if [ $rc = 0 ]; then pass "$name: nvme compare of equal data succeeds"; else
        fail "$name: nvme compare of equal data: exit $rc: $out"; fi
    printf '\x5a' | dd of=/tmp/cmp.pat bs=1 seek=$((3 * bs + 7)) conv=notrunc 2>/dev/null
    rc=0
    out=$(nvme compare "$dev" -s 16 -c 7 -z $((8 * bs)) -d /tmp/cmp.pat 2>&1) || rc=$?
    if [ $rc != 0 ] && echo "$out" | grep -qiE 'COMPARE_FAILED|0x285|compare failure'; then
        pass "$name: nvme compare of different data: Compare Failure"
    else
        fail "$name: nvme compare of different data: exit $rc: $out"
    fi
    rm -f /tmp/cmp.pat
}

fio_check() {
    local nqn=$1 nsid=$2 dev mib res name="${1##*:} ns$2"
    dev=$(nvme_ns_dev "$nqn" "$nsid" 1) || { fail "$name: fio: no device"; return; }
    mib=$(($(blockdev --getsize64 "$dev") >> 20))
    [ "$mib" -le "$fio_mib" ] || mib=$fio_mib
    if res=$(fio --name=verify --filename="$dev" --direct=1 --ioengine=libaio --rw=randwrite \
        --bs=4k --iodepth=16 --size="${mib}M" --verify=crc32c --do_verify=1 \
        --output-format=terse --terse-version=3 2>&1); then
        pass "$name: fio randwrite $mib MiB verify=crc32c ($(echo "$res" | awk -F';' 'NF > 49 {print $49 " write IOPS"}'))"
    else
        fail "$name: fio randwrite+verify: $(echo "$res" | grep -iE 'verify|error|bad' | head -n 3 | tr '\n' ' ')"
    fi
}

# jnum KEY < nvme-cli JSON: the number after "KEY": (128-bit counters are quoted).
jnum() { sed -n "s/^ *\"$1\":\"*\([0-9]*\).*/\1/p" | head -n 1; }
# jentry JSON IDX KEY: KEY of the IDX-th (from 0, newest first) error log entry.
jentry() {
    awk -v want="$2" -v key="\"$3\":" '
        index($0, "\"error_count\":") { n++ }
        n - 1 == want && index($0, key) {
            s = substr($0, index($0, key) + length(key)); gsub(/[^0-9]/, "", s); print s; exit
        }' <<<"$1"
}

# check_health NQN NSID BS: nvme smart-log and error-log against what this
# host did: 8 MiB written and 4 MiB read move the data unit counters (units
# of 1000 x 512 bytes: 16.384 and 8.192, rounded up on the running total),
# the per-namespace log (LPA bit 0) agrees with the controller's (one
# namespace), and a read past the end and an unknown log page are the newest
# error log entries, with their queue, status, NSID, LBA and parameter.
check_health() {
    local nqn=$1 nsid=$2 bs=$3 ctrl dev s0 s1 sn e k d lo hi nsze v name="${1##*:} ns$2"
    ctrl=$(nvme_ctrl_dev "$nqn") || { fail "health $name: no controller"; return; }
    dev=$(nvme_ns_dev "$nqn" "$nsid" 1) || { fail "health $name: no device"; return; }
    v=$(nvme id-ctrl "$ctrl" 2>&1 | field lpa)
    if [ $((v & 1)) = 1 ]; then pass "id-ctrl $name: lpa $v (SMART per namespace)"; else
        fail "id-ctrl $name: lpa '$v' lacks bit 0"; fi
    s0=$(nvme smart-log "$ctrl" -o json 2>&1) || { fail "nvme smart-log $name: $s0"; return; }
    dd if=/dev/urandom of=/tmp/health bs=1M count=8 2>/dev/null
    # From 16 MiB on: the reconnect check's marker is in the first MiB.
    if ! dd if=/tmp/health of="$dev" bs=1M count=8 seek=16 oflag=direct 2>/dev/null ||
        ! dd if="$dev" of=/dev/null bs=1M count=4 skip=16 iflag=direct 2>/dev/null; then
        fail "health $name: dd failed"; return
    fi
    s1=$(nvme smart-log "$ctrl" -o json 2>&1) || { fail "nvme smart-log $name: $s1"; return; }
    sn=$(nvme smart-log "$ctrl" -n "$nsid" -o json 2>&1) ||
        { fail "nvme smart-log -n $nsid $name: $sn"; return; }
    echo "$s1" | grep -E '"(critical_warning|data_units|host_|controller_busy|power_|num_err)' |
        sed 's/^ */    | /'
    for k in "data_units_written 16 17" "data_units_read 8 9" "host_write_commands 8 2048" \
        "host_read_commands 4 1024"; do
        read -r k lo hi <<<"$k"
        d=$(($(jnum "$k" <<<"$s1") - $(jnum "$k" <<<"$s0")))
        if [ "$d" -ge "$lo" ] && [ "$d" -le "$hi" ]; then
            pass "smart-log $name: $k +$d"
        else
            fail "smart-log $name: $k moved by $d, want $lo..$hi"
        fi
    done
    expect "smart-log $name: critical_warning" "$(jnum critical_warning <<<"$s1")" 0
    expect "smart-log $name: power_on_hours" "$(jnum power_on_hours <<<"$s1")" 0
    expect "smart-log $name: media_errors" "$(jnum media_errors <<<"$s1")" 0
    expect "smart-log -n $nsid $name: host_write_commands as the controller's" \
        "$(jnum host_write_commands <<<"$sn")" "$(jnum host_write_commands <<<"$s1")"

    nsze=$(($(blockdev --getsize64 "$dev") / bs))
    if nvme read "$dev" -s "$nsze" -c 0 -z "$bs" >/dev/null 2>&1; then
        fail "health $name: a read at LBA $nsze (past the end) succeeded"; return
    fi
    if nvme get-log "$ctrl" --log-id=0xbf --log-len=512 >/dev/null 2>&1; then
        fail "health $name: log page BFh was accepted"; return
    fi
    e=$(nvme error-log "$ctrl" -o json 2>&1) || { fail "nvme error-log $name: $e"; return; }
    s1=$(nvme smart-log "$ctrl" -o json 2>&1)
    echo "$e" | head -n 16 | sed 's/^/    | /'
    expect "error-log $name: newest error_count is num_err_log_entries" \
        "$(jentry "$e" 0 error_count)" "$(jnum num_err_log_entries <<<"$s1")"
    # status_field is the status without the phase bit: DNR 14, SCT 10:8, SC 7:0.
    expect "error-log $name: Get Log Page BFh: admin queue, Invalid Log Page" \
        "$(jentry "$e" 0 sqid) $(($(jentry "$e" 0 status_field) & 0x7ff))" "0 $((0x109))"
    expect "error-log $name: read past the end: LBA Out of Range, NSID, LBA, SLBA at byte 40" \
        "$(($(jentry "$e" 1 status_field) & 0x7ff)) $(jentry "$e" 1 nsid) $(jentry "$e" 1 lba) $(jentry "$e" 1 parm_error_location)" \
        "$((0x80)) $nsid $nsze 40"
    d=$(jentry "$e" 1 sqid)
    if [ "${d:-0}" -ge 1 ]; then pass "error-log $name: the read failed on I/O queue $d"; else
        fail "error-log $name: read error on sqid '$d', want an I/O queue"; fi
    expect "error-log $name: error counts consecutive" \
        "$(($(jentry "$e" 1 error_count) + 1))" "$(jentry "$e" 0 error_count)"
    rm -f /tmp/health
}

# A marker per namespace written before the disconnect, read after the reconnect.
write_marker() {
    local dev
    dev=$(nvme_ns_dev "$1" "$2" 1) || return
    dd if=/dev/urandom of="/tmp/marker.$3" bs=64k count=16 2>/dev/null
    dd if="/tmp/marker.$3" of="$dev" bs=64k count=16 oflag=direct 2>/dev/null
}
check_marker() {
    local dev name="${1##*:} ns$2"
    dev=$(nvme_ns_dev "$1" "$2" 10) || { fail "$name: no device after reconnect"; return; }
    if dd if="$dev" of=/tmp/marker.back bs=64k count=16 iflag=direct 2>/dev/null &&
        cmp -s "/tmp/marker.$3" /tmp/marker.back; then
        pass "$name: data kept across reconnect"
    else
        fail "$name: data written before the disconnect differs after the reconnect"
    fi
    rm -f /tmp/marker.back
}

for mode in $modes; do
    case $mode in
        plain) opts='' mib_cap=${MIB:-64} ;;
        digest) opts="-g -G" mib_cap=${DIGEST_MIB:-16} ;;
        *) fail "unknown mode $mode"; continue ;;
    esac
    log "=== mode $mode (connect options: ${opts:-none}) ==="
    check_discovery
    if ! connect "$nqn_a" || ! connect "$nqn_b"; then
        nvme disconnect -n "$nqn_a" >/dev/null 2>&1; nvme disconnect -n "$nqn_b" >/dev/null 2>&1
        continue
    fi
    nvme list 2>&1 | sed 's/^/    | /'
    check_id_ctrl "$nqn_a" "$EXPECT_SN_A" "$EXPECT_MN_A"
    check_id_ctrl "$nqn_b" "$EXPECT_SN_B" "$EXPECT_MN_B"
    i=0
    for entry in "${ns_list[@]}"; do
        read -r nqn nsid bs bytes <<<"$entry"
        i=$((i + 1))
        check_ns "$nqn" "$nsid" "$bs" "$bytes" || continue
        log "dd on ${nqn##*:} ns$nsid"
        dd_check "$nqn" "$nsid" 4KiB 4096
        dd_check "$nqn" "$nsid" 1MiB 1048576
        compare_check "$nqn" "$nsid" "$bs"
        log "fio on ${nqn##*:} ns$nsid"
        fio_check "$nqn" "$nsid"
        write_marker "$nqn" "$nsid" $i
    done
    log "SMART / Health and error logs"
    check_health "$nqn_b" 1 4096
    disconnect "$nqn_a"
    disconnect "$nqn_b"
    log "reconnect"
    if connect "$nqn_a" && connect "$nqn_b"; then
        i=0
        for entry in "${ns_list[@]}"; do
            read -r nqn nsid bs bytes <<<"$entry"
            i=$((i + 1))
            check_marker "$nqn" "$nsid" $i
        done
    fi
    disconnect "$nqn_a"
    disconnect "$nqn_b"
done

echo "guest: $npass passed, $nfail failed"
[ $nfail = 0 ]
