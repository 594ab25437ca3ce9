#!/usr/bin/env python3
"""Side-by-side benchmark: nvmf-target against SPDK's nvmf_tgt (bench/run --peer spdk).

Both targets export a 256 MiB RAM namespace with 4 KiB blocks over NVMe/TCP on
127.0.0.1, each on one core (CPU 0) with its default transport options. The
same initiator (spdk_nvme_perf with default options plus -L for percentiles,
and our nvmf-perf) runs on CPU 1. Rounds alternate which target goes first;
the target not under test is stopped (SIGSTOP) so that SPDK's poller never
competes with a run against ours, nor ours with one against SPDK. Ratios are
taken within a round and the median over rounds is reported, as the machine
is shared and noisy.

Writes bench/results/peer-spdk-<UTC>.{json,md,png} and prints the Markdown.
Run through bench/run --peer spdk, which builds the daemon and tools first.
"""
import argparse
import datetime
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUR_NQN = "nqn.2026-11.io.nvmf-target:bench"
SPDK_NQN = "nqn.2016-06.io.spdk:cnode1"  # what ../shared/spdk-peer/configure-tgt creates
HZ = os.sysconf("SC_CLK_TCK")

# name, queue depth, block size, pattern, digests
WORKLOADS = [
    ("4K randread QD1", 1, 4096, "randread", False),
    ("4K randread QD4", 4, 4096, "randread", False),
    ("4K randread QD16", 16, 4096, "randread", False),
    ("4K randread QD32", 32, 4096, "randread", False),
    ("4K randread QD64", 64, 4096, "randread", False),
    ("4K randread QD128", 128, 4096, "randread", False),
    ("4K randwrite QD32", 32, 4096, "randwrite", False),
    ("4K randread QD32 digests", 32, 4096, "randread", True),
    ("128K read QD16", 16, 131072, "read", False),
    ("128K write QD16", 16, 131072, "write", False),
]
QUICK = {"4K randread QD1", "4K randread QD32", "128K read QD16"}


def log(msg):
    print(f"[{datetime.datetime.now():%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


def free_port(start):
    for port in range(start, start + 200):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise SystemExit("no free port")


def wait_port(port, proc, seconds=30):
    end = time.time() + seconds
    while time.time() < end:
        if proc is not None and proc.poll() is not None:
            return False
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.1)
    return False


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


class Target:
    def __init__(self, name, pid, port, nqn):
        self.name, self.pid, self.port, self.nqn = name, pid, port, nqn

    def trid(self):
        return (f"trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:{self.port} "
                f"subnqn:{self.nqn}")

    def pause(self):
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self):
        os.kill(self.pid, signal.SIGCONT)


def start_ours(build_dir, work):
    port = free_port(4720)
    cfg = {"subsystems": [
        {"subsystem": "bdev", "config": [
            {"method": "bdev_malloc_create",
             "params": {"name": "Malloc0", "num_blocks": 65536, "block_size": 4096}}]},
        {"subsystem": "nvmf", "config": [
            {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
            {"method": "nvmf_create_subsystem",
             "params": {"nqn": OUR_NQN, "allow_any_host": True, "serial_number": "BENCH0001"}},
            {"method": "nvmf_subsystem_add_ns",
             "params": {"nqn": OUR_NQN, "namespace": {"bdev_name": "Malloc0", "nsid": 1}}},
            {"method": "nvmf_subsystem_add_listener",
             "params": {"nqn": OUR_NQN, "listen_address": {
                 "trtype": "TCP", "adrfam": "IPv4", "traddr": "127.0.0.1",
                 "trsvcid": str(port)}}}]}]}
    path = os.path.join(work, "ours.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    logf = open(os.path.join(work, "ours.log"), "w")
    proc = subprocess.Popen([os.path.join(build_dir, "nvmf-target"), "--json", path, "-m", "0x1",
                             "-r", os.path.join(work, "ours.sock"), "--log-level", "warn"],
                            stdout=logf, stderr=subprocess.STDOUT)
    if not wait_port(port, proc):
        raise SystemExit(f"nvmf-target did not start; see {work}/ours.log")
    return proc, Target("nvmf-target", proc.pid, port, OUR_NQN)


def start_spdk(peer, env):
    port = free_port(4740)
    out = subprocess.run([os.path.join(peer, "start-tgt"), "0x1"], env=env, check=True,
                         stdout=subprocess.PIPE, text=True)
    pid = int(out.stdout.strip().split()[-1])
    subprocess.run([os.path.join(peer, "configure-tgt"), str(port)], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    if not wait_port(port, None):
        raise SystemExit("SPDK nvmf_tgt did not listen")
    return Target("SPDK nvmf_tgt", pid, port, SPDK_NQN)


PERCENTILE = re.compile(r"^\s*([0-9.]+)%\s*:\s*([0-9.]+)us")


def run_spdk_perf(target, qd, bs, pattern, digests, seconds, env):
    cmd = ["spdk_nvme_perf", "-c", "0x2", "-r", target.trid(), "-q", str(qd), "-o", str(bs),
           "-w", pattern, "-t", str(seconds), "-L"]
    if digests:
        cmd += ["-H", "-I"]
    out = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, timeout=seconds + 60).stdout
    total = next((line for line in out.splitlines() if line.startswith("Total")), None)
    if total is None:
        raise RuntimeError("spdk_nvme_perf: no Total line:\n" + out[-2000:])
    iops, mib, avg = (float(x) for x in total.split(":")[1].split()[:3])
    pct = {}
    for line in out.splitlines():
        m = PERCENTILE.match(line)
        if m:
            pct[float(m.group(1))] = float(m.group(2))
    return {"iops": iops, "mib_s": mib, "avg_us": avg, "p50_us": pct.get(50.0),
            "p99_us": pct.get(99.0), "p99_9_us": pct.get(99.9),
            "ios": iops * seconds, "command": " ".join(
                c if " " not in c else f"'{c}'" for c in cmd)}


def run_nvmf_perf(build_dir, target, qd, bs, pattern, digests, seconds):
    cmd = [os.path.join(build_dir, "nvmf-perf"), "-c", "0x2", "-r", target.trid(), "-q", str(qd),
           "-o", str(bs), "-w", pattern, "-t", str(seconds), "--json"]
    if digests:
        cmd += ["--hdgst", "--ddgst"]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         timeout=seconds + 60)
    if out.returncode != 0:
        raise RuntimeError(f"nvmf-perf failed: {out.stderr[-2000:]}")
    t = json.loads(out.stdout)["total"]
    lat = t["lat_us"]
    shown = ["nvmf-perf"] + [c if " " not in c else f"'{c}'" for c in cmd[1:]]
    return {"iops": t["iops"], "mib_s": t["mib_s"], "avg_us": lat["avg"], "p50_us": lat["p50"],
            "p99_us": lat["p99"], "p99_9_us": lat["p99_9"], "ios": t["ios"],
            "errors": t["errors"], "command": " ".join(shown)}


def measure(target, run):
    target.resume()
    time.sleep(0.3)
    t0 = cpu_ticks(target.pid)
    r = run()
    t1 = cpu_ticks(target.pid)
    target.pause()
    cpu = (t1 - t0) / HZ
    r["target_cpu_s"] = cpu
    r["target_cpu_s_per_mio"] = cpu / r["ios"] * 1e6 if r["ios"] else None
    return r


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def summarize(rows, initiators, workloads):
    summary = []
    for ini in initiators:
        for (name, qd, bs, pattern, digests) in workloads:
            mine = [r for r in rows if r["initiator"] == ini and r["workload"] == name]
            if not mine:
                continue
            entry = {"initiator": ini, "workload": name, "qd": qd, "block_size": bs}
            for tgt in ("nvmf-target", "SPDK nvmf_tgt"):
                rs = [r for r in mine if r["target"] == tgt]
                entry[tgt] = {k: median([r[k] for r in rs]) for k in
                              ("iops", "mib_s", "avg_us", "p50_us", "p99_us", "p99_9_us",
                               "target_cpu_s_per_mio")}
                entry[tgt]["command"] = rs[0]["command"] if rs else None
            rounds = sorted({r["round"] for r in mine})
            ratios = {"iops": [], "avg_us": [], "p99_us": [], "cpu": []}
            for rnd in rounds:
                a = next((r for r in mine if r["round"] == rnd and r["target"] == "nvmf-target"), None)
                b = next((r for r in mine if r["round"] == rnd and r["target"] == "SPDK nvmf_tgt"), None)
                if not a or not b:
                    continue
                ratios["iops"].append(a["iops"] / b["iops"] if b["iops"] else None)
                ratios["avg_us"].append(a["avg_us"] / b["avg_us"] if b["avg_us"] else None)
                if a.get("p99_us") and b.get("p99_us"):
                    ratios["p99_us"].append(a["p99_us"] / b["p99_us"])
                if a["target_cpu_s_per_mio"] and b["target_cpu_s_per_mio"]:
                    ratios["cpu"].append(a["target_cpu_s_per_mio"] / b["target_cpu_s_per_mio"])
            entry["ratio_median"] = {k: median(v) for k, v in ratios.items()}
            entry["ratio_per_round"] = ratios
            summary.append(entry)
    return summary


def goal(entry):
    """The issue's per-core goal for this row: text and whether it is met."""
    r = entry["ratio_median"]
    if entry["qd"] == 1:
        ok = r["avg_us"] is not None and r["avg_us"] <= 0.75
        return f"avg lat <= 0.75x: {'met' if ok else 'NOT met'}"
    if entry["qd"] >= 16:
        ok = r["iops"] is not None and r["iops"] >= 1.5
        return f">= 1.5x: {'met' if ok else 'NOT met'}"
    return "-"


def fmt(x, spec):
    return "-" if x is None else format(x, spec)


def markdown(summary, meta):
    out = [f"bench/run --peer spdk: {meta['rounds']} rounds x {meta['seconds']} s per run, "
           f"targets on CPU 0 (one core each, the other stopped), initiator on CPU 1; "
           f"medians over rounds; ratio = nvmf-target / SPDK within a round, median. "
           f"SPDK {meta['spdk_version']}, nvmf-target {meta['our_version']}, {meta['date']}.", ""]
    for ini in meta["initiators"]:
        out += [f"### Initiator: {ini}", "",
                "| workload | nvmf-target IOPS | SPDK IOPS | IOPS ratio | MiB/s ours / SPDK | "
                "avg us ours / SPDK | p99 us ours / SPDK | CPU s/M I/O ours / SPDK | goal |",
                "|---|---|---|---|---|---|---|---|---|"]
        for e in (e for e in summary if e["initiator"] == ini):
            a, b, r = e["nvmf-target"], e["SPDK nvmf_tgt"], e["ratio_median"]
            out.append(
                f"| {e['workload']} | {fmt(a['iops'] / 1000, '.1f')}k | {fmt(b['iops'] / 1000, '.1f')}k"
                f" | **{fmt(r['iops'], '.2f')}x** | {fmt(a['mib_s'], '.0f')} / {fmt(b['mib_s'], '.0f')}"
                f" | {fmt(a['avg_us'], '.1f')} / {fmt(b['avg_us'], '.1f')} ({fmt(r['avg_us'], '.2f')}x)"
                f" | {fmt(a['p99_us'], '.1f')} / {fmt(b['p99_us'], '.1f')}"
                f" | {fmt(a['target_cpu_s_per_mio'], '.2f')} / {fmt(b['target_cpu_s_per_mio'], '.2f')}"
                f" | {goal(e)} |")
        out.append("")
    out += ["Command lines (one round; the trid names the target under test):", ""]
    seen = set()
    for e in summary:
        for tgt in ("nvmf-target", "SPDK nvmf_tgt"):
            c = e[tgt]["command"]
            if c and c not in seen:
                seen.add(c)
                out.append(f"    {c}")
    return "\n".join(out) + "\n"


def plot(summary, png, ini):
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        log("no gnuplot: no plot (install gnuplot-nox)")
        return False
    sweep = [e for e in summary if e["initiator"] == ini and e["workload"].startswith("4K randread QD")
             and "digests" not in e["workload"]]
    if len(sweep) < 2:
        return False
    data = png + ".dat"
    with open(data, "w") as f:
        f.write("# qd ours_kiops spdk_kiops ours_avg_us spdk_avg_us ours_p99 spdk_p99\n")
        for e in sorted(sweep, key=lambda e: e["qd"]):
            a, b = e["nvmf-target"], e["SPDK nvmf_tgt"]
            f.write(f"{e['qd']} {a['iops'] / 1000:.2f} {b['iops'] / 1000:.2f} {a['avg_us']:.2f} "
                    f"{b['avg_us']:.2f} {a['p99_us'] or 0:.2f} {b['p99_us'] or 0:.2f}\n")
    script = f"""
set terminal pngcairo size 1200,500 font 'sans,10' noenhanced
set output '{png}'
set multiplot layout 1,2 title '4K randread over NVMe/TCP, one target core, initiator {ini} (median of rounds)'
set logscale x 2
set xlabel 'queue depth'
set grid
set key left top
set ylabel 'kIOPS'
set yrange [0:*]
plot '{data}' using 1:2 with linespoints lw 2 pt 7 title 'nvmf-target', \\
     '{data}' using 1:3 with linespoints lw 2 pt 5 title 'SPDK nvmf_tgt'
set ylabel 'latency (us)'
set autoscale y
set logscale y 10
plot '{data}' using 1:4 with linespoints lw 2 pt 7 title 'nvmf-target avg', \\
     '{data}' using 1:5 with linespoints lw 2 pt 5 title 'SPDK avg', \\
     '{data}' using 1:6 with linespoints dt 2 pt 6 title 'nvmf-target p99', \\
     '{data}' using 1:7 with linespoints dt 2 pt 4 title 'SPDK p99'
unset multiplot
"""
    subprocess.run([gnuplot], input=script, text=True, check=True)
    os.unlink(data)
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build", "release"))
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--initiators", default="spdk_nvme_perf,nvmf-perf")
    ap.add_argument("--quick", action="store_true", help="3 workloads, 1 round, 2 s")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    args = ap.parse_args()
    workloads = WORKLOADS
    if args.quick:
        workloads = [w for w in WORKLOADS if w[0] in QUICK]
        args.rounds, args.seconds = 1, 2
    initiators = [i for i in args.initiators.split(",") if i]

    peer = os.environ.get("SPDK_PEER_DIR", os.path.join(ROOT, "..", "shared", "spdk-peer"))
    peer = os.path.abspath(peer)
    env = dict(os.environ)
    # A state directory and RPC socket of the bench's own, so that a peer
    # someone else started is left alone.
    env["SPDK_RPC_SOCK"] = "/var/tmp/nvmf-bench-spdk.sock"
    env["SPDK_PEER_STATE"] = "/var/tmp/nvmf-bench-spdk"
    probe = subprocess.run(["bash", "-c", f". '{peer}/env.sh' && env"], env=env,
                           stdout=subprocess.PIPE, text=True)
    if probe.returncode != 0:
        raise SystemExit(f"no SPDK peer at {peer}: see ../shared/spdk-peer/README.md")
    for line in probe.stdout.splitlines():
        k, _, v = line.partition("=")
        if k in ("PATH", "LD_LIBRARY_PATH", "SPDK_DIR", "SPDK_PYTHON"):
            env[k] = v
    for tool in ("spdk_nvme_perf", "nvmf_tgt"):
        if not shutil.which(tool, path=env["PATH"]):
            raise SystemExit(f"{tool} is not built: run {peer}/build")
    os.environ["PATH"] = env["PATH"]

    work = tempfile.mkdtemp(prefix="nvmf-peer-bench.")
    ours_proc, ours = start_ours(args.build_dir, work)
    spdk = None
    try:
        spdk = start_spdk(peer, env)
        spdk_version = json.loads(subprocess.run(
            [env["SPDK_PYTHON"], os.path.join(env["SPDK_DIR"], "scripts", "rpc.py"), "-s",
             env["SPDK_RPC_SOCK"], "spdk_get_version"], env=env, stdout=subprocess.PIPE,
            text=True).stdout or "{}").get("version", "?")
        our_version = subprocess.run([os.path.join(args.build_dir, "nvmf-target"), "--version"],
                                     stdout=subprocess.PIPE, text=True).stdout.strip()
        ours.pause()
        spdk.pause()
        rows = []
        total = args.rounds * len(initiators) * len(workloads) * 2
        n = 0
        for rnd in range(1, args.rounds + 1):
            order = [ours, spdk] if rnd % 2 else [spdk, ours]
            for ini in initiators:
                for (name, qd, bs, pattern, digests) in workloads:
                    for tgt in order:
                        n += 1
                        if ini == "spdk_nvme_perf":
                            run = lambda: run_spdk_perf(tgt, qd, bs, pattern, digests,
                                                        args.seconds, env)
                        else:
                            run = lambda: run_nvmf_perf(args.build_dir, tgt, qd, bs, pattern,
                                                        digests, args.seconds)
                        r = measure(tgt, run)
                        r.update({"round": rnd, "initiator": ini, "workload": name,
                                  "target": tgt.name})
                        rows.append(r)
                        log(f"[{n}/{total}] round {rnd} {ini} {name} {tgt.name}: "
                            f"{r['iops'] / 1000:.1f}k IOPS avg {r['avg_us']:.1f} us "
                            f"cpu {r['target_cpu_s_per_mio'] or 0:.2f} s/M")
    finally:
        for t in (ours, spdk):
            if t:
                try:
                    t.resume()
                except ProcessLookupError:
                    pass
        ours_proc.terminate()
        ours_proc.wait(timeout=30)
        if spdk:
            subprocess.run([os.path.join(peer, "stop-tgt"), str(spdk.pid)], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    summary = summarize(rows, initiators, workloads)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    meta = {"date": stamp, "rounds": args.rounds, "seconds": args.seconds,
            "initiators": initiators, "spdk_version": spdk_version, "our_version": our_version,
            "cpus": os.cpu_count()}
    os.makedirs(args.out, exist_ok=True)
    base = os.path.join(args.out, f"peer-spdk-{stamp}")
    with open(base + ".json", "w") as f:
        json.dump({"meta": meta, "summary": summary, "runs": rows}, f, indent=2)
    md = markdown(summary, meta)
    with open(base + ".md", "w") as f:
        f.write(md)
    plotted = plot(summary, base + ".png", initiators[0])
    print(md)
    print(f"JSON: {base}.json\nMarkdown: {base}.md" + (f"\nPlot: {base}.png" if plotted else ""))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
