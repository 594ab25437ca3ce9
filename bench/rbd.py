#!/usr/bin/env python3
"""bench/rbd.py: an RBD namespace through nvmf-target against fio's rbd engine
(native librbd) on the same image, same machine (issue 15's bench rows).

Starts a one-node cluster (tests/ceph/cluster-up), a 1 GiB image filled by
`rbd bench`, then for each workload (4K randread/randwrite QD32, 128K
read/write QD16): fio --ioengine=rbd, and nvmf-perf against the daemon (one
reactor on CPU 0, nvmf-perf on CPU 1) exporting the image through a
registered cluster. Reports IOPS, MiB/s, mean and p99 latency, and CPU
seconds per million I/Os of the process that runs librbd (fio for native,
the daemon for ours). Prints a markdown table and writes JSON to
bench/results/rbd-<time>.json.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKLOADS = [("4K randread QD32", "randread", 4096, 32),
             ("4K randwrite QD32", "randwrite", 4096, 32),
             ("128K read QD16", "read", 131072, 16),
             ("128K write QD16", "write", 131072, 16)]
NQN = "nqn.2016-06.io.spdk:rbdbench"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def fio_native(env, rw, bs, qd, secs):
    out = subprocess.run(
        ["fio", "--name=native", "--ioengine=rbd", "--clientname=admin", "--pool=rbd",
         "--rbdname=bench", f"--rw={rw}", f"--bs={bs}", f"--iodepth={qd}", "--direct=1",
         "--time_based", f"--runtime={secs}", "--ramp_time=1", "--cpus_allowed=1",
         "--output-format=json"], env=env, check=True, capture_output=True, text=True).stdout
    job = json.loads(out[out.index("{"):])["jobs"][0]
    side = job["read"] if "read" in rw else job["write"]
    ios = side["total_ios"]
    cpu = (job["usr_cpu"] + job["sys_cpu"]) / 100.0 * job["job_runtime"] / 1000.0
    clat = side["clat_ns"]
    return {"iops": side["iops"], "mib_s": side["bw_bytes"] / 1048576.0,
            "lat_avg_us": side["lat_ns"]["mean"] / 1000.0,
            "lat_p99_us": clat["percentile"]["99.000000"] / 1000.0,
            "cpu_s_per_mio": cpu / ios * 1e6 if ios else None}


def ours(perf, port, pid, rw, bs, qd, secs):
    trid = f"trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:{port} subnqn:{NQN}"
    c0 = cpu_seconds(pid)
    out = subprocess.run([perf, "-r", trid, "-q", str(qd), "-o", str(bs), "-w", rw, "-t",
                          str(secs), "-c", "0x2", "--json"], check=True, capture_output=True,
                         text=True).stdout
    cpu = cpu_seconds(pid) - c0
    t = json.loads(out)["total"]
    return {"iops": t["iops"], "mib_s": t["mib_s"], "lat_avg_us": t["lat_us"]["avg"],
            "lat_p99_us": t["lat_us"]["p99"],
            "cpu_s_per_mio": cpu / t["ios"] * 1e6 if t["ios"] else None}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--busy-poll-us", type=int, default=None,
                    help="the daemon's --busy-poll-us (default: its own)")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="nvmf-bench-rbd.")
    ceph = os.path.join(work, "ceph")
    # Memstore holds the objects in RAM: room for the 1 GiB image and more
    # (a full OSD blocks every client, opens included).
    subprocess.run([os.path.join(ROOT, "tests/ceph/cluster-up"), ceph], check=True,
                   stdout=subprocess.DEVNULL, env=dict(os.environ, NVMF_CEPH_MEMSTORE_MIB="4096"))
    env = dict(os.environ, CEPH_CONF=f"{ceph}/ceph.conf",
               CEPH_KEYRING=f"{ceph}/ceph.client.admin.keyring")
    daemon = None
    try:
        subprocess.run(["rbd", "create", "--size", "1G", "rbd/bench"], env=env, check=True)
        subprocess.run(["rbd", "bench", "--io-type", "write", "--io-size", "4M", "--io-total",
                        "1G", "--io-pattern", "seq", "rbd/bench"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        port = 5300 + os.getpid() % 500
        cfg = {"subsystems": [
            {"subsystem": "bdev", "config": [
                {"method": "bdev_rbd_register_cluster",
                 "params": {"name": "ceph0", "user_id": "admin", "config_file": env["CEPH_CONF"],
                            "key_file": env["CEPH_KEYRING"]}},
                {"method": "bdev_rbd_create",
                 "params": {"name": "Rbd0", "cluster_name": "ceph0", "pool_name": "rbd",
                            "rbd_name": "bench", "block_size": 4096}}]},
            {"subsystem": "nvmf", "config": [
                {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
                {"method": "nvmf_create_subsystem",
                 "params": {"nqn": NQN, "allow_any_host": True}},
                {"method": "nvmf_subsystem_add_ns",
                 "params": {"nqn": NQN, "namespace": {"bdev_name": "Rbd0"}}},
                {"method": "nvmf_subsystem_add_listener",
                 "params": {"nqn": NQN, "listen_address": {
                     "trtype": "TCP", "adrfam": "IPv4", "traddr": "127.0.0.1",
                     "trsvcid": str(port)}}}]}]}
        cfg_path = os.path.join(work, "config.json")
        with open(cfg_path, "w") as f:
            json.dump(cfg, f)
        log = open(os.path.join(work, "daemon.log"), "w")
        args = [os.path.join(a.build_dir, "nvmf-target"), "-m", "0x1", "--json", cfg_path, "-r",
                os.path.join(work, "rpc.sock")]
        if a.busy_poll_us is not None:
            args += ["--busy-poll-us", str(a.busy_poll_us)]
        daemon = subprocess.Popen(args, stdout=log, stderr=log)
        time.sleep(2)
        rows = []
        for name, rw, bs, qd in WORKLOADS:
            n = fio_native(env, rw, bs, qd, a.seconds)
            o = ours(os.path.join(a.build_dir, "nvmf-perf"), port, daemon.pid, rw, bs, qd,
                     a.seconds)
            rows.append({"workload": name, "native": n, "ours": o,
                         "ratio": o["iops"] / n["iops"] if n["iops"] else None})
        print("| workload | native librbd (fio) IOPS | MiB/s | avg / p99 us | CPU s/M IO "
              "| through nvmf-target IOPS | MiB/s | avg / p99 us | CPU s/M IO | ours / native |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            n, o = r["native"], r["ours"]
            print(f"| {r['workload']} | {n['iops']:.0f} | {n['mib_s']:.1f} | "
                  f"{n['lat_avg_us']:.0f} / {n['lat_p99_us']:.0f} | {n['cpu_s_per_mio']:.1f} | "
                  f"{o['iops']:.0f} | {o['mib_s']:.1f} | {o['lat_avg_us']:.0f} / "
                  f"{o['lat_p99_us']:.0f} | {o['cpu_s_per_mio']:.1f} | {r['ratio']:.0%} |")
        os.makedirs(os.path.join(ROOT, "bench/results"), exist_ok=True)
        out = os.path.join(ROOT, "bench/results", time.strftime("rbd-%Y%m%d-%H%M%S.json"))
        with open(out, "w") as f:
            json.dump({"seconds": a.seconds, "rows": rows}, f, indent=1)
        print(f"\nJSON: {out}", file=sys.stderr)
    finally:
        if daemon:
            daemon.terminate()
            daemon.wait(timeout=20)
        subprocess.run([os.path.join(ROOT, "tests/ceph/cluster-down"), ceph])
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
