#!/bin/bash
# Runs inside the linux-host guest (see tests/interop/run-file-bdev): the Linux
# NVMe/TCP host against our target's file-backed namespaces.
#   guest-file-bdev.sh PORT NQN
# Environment: NS_LIST ("nsid block_size bytes" entries separated by ","),
# FIO_MIB (fio size per job, default 16), MARKER (a string written at the
# start of every namespace with a flush, which the host then finds in the
# backing file).
# For every namespace: size and block size, "write back" cache (the target
# reports a volatile write cache for file bdevs), fio randwrite 4k and seq
# write 128k with verify=crc32c, the marker, Write Zeroes and discard reading
# back zeroes. Prints PASS/FAIL lines and "guest: N passed, N failed".
# shellcheck source=/dev/null
. /usr/lib/linux-host/lib.sh
set -u

port=${1:?usage: guest-file-bdev.sh PORT NQN}
nqn=${2:?}
fio_mib=${FIO_MIB:-16}
npass=0 nfail=0

pass() { echo "PASS [file] $*"; npass=$((npass + 1)); }
fail() { echo "FAIL [file] $*"; nfail=$((nfail + 1)); }
expect() {
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: got '$2', want '$3'"; fi
}

# fio_verify DEV NAME RW BS DEPTH
fio_verify() {
    local dev=$1 name=$2 rw=$3 bs=$4 depth=$5 res
    if res=$(fio --name=verify --filename="$dev" --direct=1 --ioengine=libaio --rw="$rw" \
        --bs="$bs" --iodepth="$depth" --size="${fio_mib}M" --verify=crc32c --do_verify=1 \
        --verify_fatal=1 --output-format=terse --terse-version=3 2>&1); then
        pass "$name: fio $rw bs=$bs QD$depth ${fio_mib} MiB verify=crc32c"
    else
        fail "$name: fio $rw bs=$bs verify: $(echo "$res" | grep -iE 'verify|error|bad' | head -n 3 | tr '\n' ' ')"
    fi
}

if ! nvme connect -t tcp -a "$HOST_ADDR" -s "$port" -n "$nqn" >/tmp/connect.out 2>&1; then
    fail "nvme connect: $(cat /tmp/connect.out)"
    echo "guest: $npass passed, $nfail failed"
    exit 1
fi
pass "nvme connect"
nvme list 2>&1 | sed 's/^/    | /'

IFS=, read -r -a entries <<<"${NS_LIST:?}"
for entry in "${entries[@]}"; do
    read -r nsid bs bytes <<<"$entry"
    name="ns$nsid"
    dev=$(nvme_ns_dev "$nqn" "$nsid" 10) || { fail "$name: no block device"; continue; }
    b=${dev#/dev/}
    pass "$name: $dev appeared"
    expect "$name: logical_block_size" "$(cat "/sys/block/$b/queue/logical_block_size")" "$bs"
    expect "$name: size" "$(($(cat "/sys/block/$b/size") * 512))" "$bytes"
    expect "$name: volatile write cache" "$(cat "/sys/block/$b/queue/write_cache")" "write back"
    fio_verify "$dev" "$name" randwrite 4k 16
    fio_verify "$dev" "$name" write 128k 8

    # A marker at LBA 0, made durable by conv=fsync (a Flush).
    printf '%s ns%s' "${MARKER:?}" "$nsid" >/tmp/marker
    if dd if=/tmp/marker of="$dev" bs="$bs" count=1 conv=sync,fsync oflag=direct 2>/tmp/dd.err; then
        pass "$name: marker written and flushed"
    else
        fail "$name: marker: $(tr '\n' ' ' </tmp/dd.err)"
    fi

    # Compare (the NVMe layer reads the file and compares): equal succeeds,
    # one byte off fails with Compare Failure (SCT 2h, SC 85h).
    dd if=/dev/urandom of=/tmp/cmp.pat bs="$bs" count=8 2>/dev/null
    dd if=/tmp/cmp.pat of="$dev" bs="$bs" seek=16 count=8 oflag=direct 2>/dev/null
    rc=0
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

    # Write Zeroes (nvme-cli; busybox blkdiscard has no -z) and discard
    # (Deallocate, through the block layer) read back as zeroes.
    dd if=/dev/urandom of="$dev" bs=1M count=2 seek=4 oflag=direct 2>/dev/null
    if nvme write-zeroes "$dev" -s $(((4 << 20) / bs)) -c $(((1 << 20) / bs - 1)) >/tmp/wz.err 2>&1 &&
        blkdiscard -o $((5 << 20)) -l $((1 << 20)) "$dev" >>/tmp/wz.err 2>&1; then
        dd if=/dev/zero of=/tmp/zero bs=1M count=2 2>/dev/null
        dd if="$dev" of=/tmp/back bs=1M count=2 skip=4 iflag=direct 2>/dev/null
        if cmp /tmp/zero /tmp/back >/tmp/cmp.out 2>&1; then
            pass "$name: write zeroes + discard read back zeroes"
        else
            fail "$name: write zeroes + discard: $(head -n 1 /tmp/cmp.out)"
        fi
    else
        fail "$name: write-zeroes/blkdiscard: $(tr '\n' ' ' </tmp/wz.err)"
    fi
done

if nvme disconnect -n "$nqn" >/dev/null 2>&1; then pass "nvme disconnect"; else fail "nvme disconnect"; fi
echo "guest: $npass passed, $nfail failed"
[ $nfail = 0 ]
