#!/bin/bash
# Runs inside the linux-host guest (see tests/interop/run-power-loss): what a
# power cut leaves of the writes our daemon acknowledged as durable, with
# dm-log-writes (issue 17).
#   guest-power-loss.sh NQN
# Environment: PHASES (default "ext4 raw unsafe"), SEED, FUA_N, FLUSH_N, SHUTDOWN_N (writes
# per phase), RANDOM_POINTS (replay points between flushes, per phase).
# Each phase: our daemon (in the guest) serves a file bdev, the guest's kernel
# NVMe/TCP host connects to it on 127.0.0.1, nvmf-plog writes through NVMe
# passthrough FUA_N blocks with FUA, then FLUSH_N plain blocks in batches each
# followed by a Flush, marking the log after each acknowledgement, then
# SHUTDOWN_N plain blocks and nvme disconnect (a shutdown notification, which
# must flush: it is marked as a durable point once disconnect returns). Then the
# log is replayed to every FLUSH or FUA entry and to RANDOM_POINTS random
# entries, and at each point every write acknowledged as durable before it
# must be there byte for byte (nvmf-plog check).
#   ext4    the bdev is a file on ext4 on the logged device; each replay point
#           is mounted (ext4 replays its journal, as after a reboot), checked
#           and, when e2fsck was copied in, fsck'd
#   raw     the bdev is the logged block device itself
#   unsafe  as ext4, half the writes, NVMF_UNSAFE_SKIP_SYNC=1 (no sync at all):
#           the check must find acknowledged writes missing, or the test
#           could not fail
# Prints "PASS [phase] check" / "FAIL [phase] check: why" and a closing count.
# shellcheck source=/dev/null
. /usr/lib/linux-host/lib.sh
set -u

nqn=${1:?usage: guest-power-loss.sh NQN}
phases=${PHASES:-ext4 raw unsafe}
seed=${SEED:-$RANDOM}
fua_n=${FUA_N:-30}
flush_n=${FLUSH_N:-30}
shutdown_n=${SHUTDOWN_N:-16}
random_points=${RANDOM_POINTS:-8}
port=4420
lbas=512      # 2 MiB of 4 KiB blocks, all of the file: overwrites are common
img_mib=2     # the file bdev on ext4
disk_mib=12   # each ramdisk: small, as every replay point copies one
sock=/tmp/nvmf.sock
npass=0 nfail=0 phase=setup daemon=

pass() { echo "PASS [$phase] $*"; npass=$((npass + 1)); }
fail() { echo "FAIL [$phase] $*"; nfail=$((nfail + 1)); }
finish() {
    if [ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null; then kill -KILL "$daemon"; fi
    echo "guest: $npass passed, $nfail failed"
    [ "$nfail" = 0 ]
    exit $?
}
now() { cut -d' ' -f1 /proc/uptime; }

modprobe brd rd_nr=4 rd_size=$((disk_mib * 1024)) || { fail "modprobe brd"; finish; }  # data, log, replay, scratch
modprobe dm-log-writes || { fail "modprobe dm-log-writes"; finish; }
modprobe ext4 || { fail "modprobe ext4"; finish; }
mkdir -p /mnt/lw /mnt/r
fsck_bin=$(command -v e2fsck || true)
echo "seed $seed, $fua_n FUA writes, $flush_n flushed writes, $random_points random points per phase"

# start_daemon FILE UNSAFE: nvmf-target on 127.0.0.1:4420 with FILE as the
# bdev (4 KiB blocks); waits for its "ready" line.
start_daemon() {
    cat >/tmp/plog.json <<JSON
{ "subsystems": [
  { "subsystem": "bdev", "config": [
    { "method": "bdev_uring_create",
      "params": { "name": "Disk0", "filename": "$1", "block_size": 4096 } } ] },
  { "subsystem": "nvmf", "config": [
    { "method": "nvmf_create_transport", "params": { "trtype": "TCP" } },
    { "method": "nvmf_create_subsystem",
      "params": { "nqn": "$nqn", "allow_any_host": true, "serial_number": "NVMFPLOG0001" } },
    { "method": "nvmf_subsystem_add_ns",
      "params": { "nqn": "$nqn", "namespace": { "bdev_name": "Disk0", "nsid": 1 } } },
    { "method": "nvmf_subsystem_add_listener",
      "params": { "nqn": "$nqn", "listen_address": { "trtype": "TCP", "adrfam": "IPv4",
                  "traddr": "127.0.0.1", "trsvcid": "$port" } } } ] } ] }
JSON
    rm -f "$sock"
    : >/tmp/daemon.log
    if [ "$2" = 1 ]; then
        NVMF_UNSAFE_SKIP_SYNC=1 nvmf-target --json /tmp/plog.json -r "$sock" -m 0x1 \
            --busy-poll-us 0 >>/tmp/daemon.log 2>&1 &
    else
        nvmf-target --json /tmp/plog.json -r "$sock" -m 0x1 --busy-poll-us 0 >>/tmp/daemon.log 2>&1 &
    fi
    daemon=$!
    for _ in $(seq 150); do
        if ! kill -0 "$daemon" 2>/dev/null; then
            fail "daemon exited at start-up: $(tail -n 5 /tmp/daemon.log | tr '\n' ' ')"
            daemon=
            return 1
        fi
        grep -q 'nvmf-target ready' /tmp/daemon.log && return 0
        sleep 0.2
    done
    fail "daemon not ready within 30 s"
    return 1
}

# run_phase NAME: one whole phase (see the header).
run_phase() {
    phase=$1
    local unsafe=0 on_fs=1 file t0 t1 nfua=$fua_n nflush=$flush_n
    if [ "$phase" = unsafe ]; then
        unsafe=1 nfua=$(((fua_n + 1) / 2)) nflush=$(((flush_n + 1) / 2))  # failing is quick
    fi
    [ "$phase" = raw ] && on_fs=0
    t0=$(now)
    dd if=/dev/zero of=/dev/ram0 bs=1M count=$disk_mib 2>/dev/null
    dd if=/dev/zero of=/dev/ram1 bs=1M count=$disk_mib 2>/dev/null
    if [ $on_fs = 1 ]; then
        # The file exists, written and synced, before the log starts: the test
        # is about our writes, not about mkfs.
        mkfs.ext4 -q -F -b 4096 -E nodiscard /dev/ram0 || { fail "mkfs.ext4"; return; }
        mount -t ext4 /dev/ram0 /mnt/lw || { fail "mount ext4"; return; }
        dd if=/dev/zero of=/mnt/lw/disk.img bs=1M count=$img_mib conv=fsync 2>/dev/null
        umount /mnt/lw
    fi
    dd if=/dev/ram0 of=/dev/ram2 bs=1M count=$disk_mib 2>/dev/null  # the replays start from here
    local sectors
    sectors=$(blockdev --getsz /dev/ram0)
    dmsetup create lw --table "0 $sectors log-writes /dev/ram0 /dev/ram1" ||
        { fail "dmsetup create log-writes"; return; }
    if [ $on_fs = 1 ]; then
        mount -t ext4 /dev/mapper/lw /mnt/lw || { fail "mount ext4 on log-writes"; return; }
        file=/mnt/lw/disk.img
    else
        file=/dev/mapper/lw
    fi
    start_daemon "$file" "$unsafe" || return
    if [ $unsafe = 1 ]; then
        if grep -q 'NVMF_UNSAFE_SKIP_SYNC=1: TEST ONLY' /tmp/daemon.log; then
            pass "the daemon warns that NVMF_UNSAFE_SKIP_SYNC=1 breaks durability"
        else
            fail "no NVMF_UNSAFE_SKIP_SYNC warning in the daemon log"
        fi
    fi
    local dev
    if ! nvme connect -t tcp -a 127.0.0.1 -s "$port" -n "$nqn" >/tmp/connect.out 2>&1 ||
        ! dev=$(nvme_ns_dev "$nqn" 1 10); then
        fail "nvme connect to our daemon on 127.0.0.1: $(tr '\n' ' ' </tmp/connect.out)"
        return
    fi
    rm -f /tmp/rec
    if out=$(nvmf-plog write "$dev" /tmp/rec lw "$seed" "$lbas" "$nfua" "$nflush" "$shutdown_n" 2>&1); then
        pass "$out through $dev, a log mark after each acknowledgement"
    else
        fail "nvmf-plog write: $out"
    fi
    # The last $shutdown_n writes had no FUA and no Flush: the shutdown
    # notification that nvme disconnect sends (CC.SHN) must make them durable
    # before CSTS.SHST says complete, that is before disconnect returns.
    if nvme disconnect -n "$nqn" >/tmp/disconnect.out 2>&1; then
        nvmf-plog durable /tmp/rec lw shutdown
    else
        fail "nvme disconnect: $(tr '\n' ' ' </tmp/disconnect.out)"
    fi
    # The power cut: whatever happened after the last mark does not matter.
    kill -KILL "$daemon"
    wait "$daemon" 2>/dev/null
    daemon=
    [ $on_fs = 1 ] && umount /mnt/lw
    dmsetup remove lw || { fail "dmsetup remove"; return; }

    # Replay points: every FLUSH or FUA entry (the state just after it), and
    # random entries in between.
    nvmf-plog entries /dev/ram1 >/tmp/entries || { fail "nvmf-plog entries"; return; }
    local nr sync_points points
    nr=$(wc -l </tmp/entries)
    sync_points=$(awk '$2 % 4 != 0 { print $1 + 1 }' /tmp/entries)
    points=$({
        echo "$sync_points"
        awk '$5 == "shutdown" { print $1 + 1 }' /tmp/entries  # just after the shutdown
        for _ in $(seq "$random_points"); do echo $((RANDOM % nr + 1)); done
    } | sort -n | uniq)
    local last
    last=$(echo "$points" | tail -n 1)
    local prev=1 p npoints=0 nbad=0 nfsck=0 first_bad='' image
    for p in $points; do
        nvmf-plog replay /dev/ram1 /dev/ram2 "$prev" "$p" || { fail "nvmf-plog replay to $p"; return; }
        prev=$p
        npoints=$((npoints + 1))
        if [ $on_fs = 1 ]; then
            dd if=/dev/ram2 of=/dev/ram3 bs=1M count=$disk_mib 2>/dev/null
            if ! mount -t ext4 /dev/ram3 /mnt/r 2>/tmp/mount.out; then
                nbad=$((nbad + 1))
                first_bad=${first_bad:-"entry $p: mount failed: $(cat /tmp/mount.out)"}
                continue
            fi
            image=/mnt/r/disk.img
        else
            image=/dev/ram2
        fi
        if ! nvmf-plog check "$image" /tmp/rec /dev/ram1 "$p" >/tmp/check.out 2>&1; then
            nbad=$((nbad + 1))
            [ -n "$first_bad" ] || first_bad=$(head -n 4 /tmp/check.out | tr '\n' ' ')
            [ $unsafe = 1 ] || sed 's/^/    | /' /tmp/check.out | head -n 6
        fi
        if [ $on_fs = 1 ]; then
            umount /mnt/r
            # e2fsck on every third point and the last: it is the slowest step
            if [ -n "$fsck_bin" ] && { [ $((npoints % 3)) = 0 ] || [ "$p" = "$last" ]; } &&
                ! "$fsck_bin" -fn /dev/ram3 >/tmp/fsck.out 2>&1; then
                nfsck=$((nfsck + 1))
                [ $unsafe = 1 ] || tail -n 5 /tmp/fsck.out | sed 's/^/    | fsck: /'
            fi
        fi
    done
    t1=$(now)
    local what
    what="$npoints replay points ($(echo "$sync_points" | wc -w) FLUSH/FUA entries of $nr, plus random ones)"
    if [ $unsafe = 1 ]; then
        if [ $nbad -gt 0 ]; then
            pass "with sync disabled the check caught lost durable writes at $nbad of $what; first: $first_bad"
        else
            fail "with sync disabled no replay point lost an acknowledged write: the test cannot fail"
        fi
    else
        if [ $nbad = 0 ] && [ $npoints -gt 0 ]; then
            pass "every write acknowledged as durable is there byte for byte at all $what"
        else
            fail "$nbad of $what lost acknowledged writes; first: $first_bad"
        fi
        if [ $on_fs = 1 ] && [ -n "$fsck_bin" ]; then
            if [ $nfsck = 0 ]; then pass "e2fsck -fn clean at every third of the $npoints points and the last"; else fail "e2fsck found errors at $nfsck points"; fi
        fi
    fi
    if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' /tmp/daemon.log; then
        fail "sanitizer report in the daemon log"
    fi
    echo "phase $phase: $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s"
}

for ph in $phases; do
    case $ph in
        ext4|raw|unsafe) run_phase "$ph" ;;
        *) phase=setup; fail "unknown phase $ph" ;;
    esac
done
finish
