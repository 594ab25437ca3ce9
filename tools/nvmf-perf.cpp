// nvmf-perf: an NVMe/TCP load generator modelled on spdk_nvme_perf.
//   nvmf-perf -r 'trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:4420 subnqn:NQN'
//             -q 32 -o 4096 -w randread -t 10 [-c 0x2] [-P 1] [-M 50] [--verify]
// SIGINT or SIGTERM ends the run before -t and prints the results so far.
// One controller; P I/O queues per active namespace; one thread per queue,
// pinned round-robin to the cores of -c. With --verify every block written
// carries its LBA and a generation and every block read is checked, so a
// queue owns a disjoint LBA slice and never has two commands on one block.
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "host/commands.hpp"
#include "host/controller.hpp"
#include "host/tls_args.hpp"
#include "reactor/reactor.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

// SIGINT/SIGTERM end the run early, as with spdk_nvme_perf: the workers stop
// submitting, wait for what is in flight and the results are printed.
std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) { g_stop.store(true, std::memory_order_relaxed); }

struct options {
    std::string trid;
    uint32_t depth = 32;
    uint32_t io_size = 4096;
    std::string workload = "randread";
    int read_pct = -1;
    uint32_t seconds = 10;
    std::string cpumask = "0x1";
    uint32_t queues_per_ns = 1;
    bool verify = false;
    bool hdgst = false;
    bool ddgst = false;
    bool json = false;
    std::string hostnqn;
    std::string dhchap_key, dhchap_ctrlr_key, dhchap_digests, dhchap_dhgroups;
    uint32_t busy_poll_us = 1000;
    int batch = -1;   // capsules per write; -1: a quarter of the depth
    std::string psk;  // TLS: an interchange key or a file holding one
    int psk_identity_version = 0;
    bool no_ktls = false;
    bool concat = false;        // secure channel concatenation
    uint32_t keepalive_ms = 0;  // -k: KATO; 0 keeps the library's default
};

// Latency histogram: 1 us buckets to 10 ms, then 100 us buckets to 1 s.
class histogram {
public:
    void add(uint64_t ns) {
        const uint64_t us = ns / 1000;
        if (us < fine_buckets) {
            ++fine_b_[us];
        } else {
            ++coarse_b_[std::min<uint64_t>((us - fine_buckets) / 100, coarse_buckets - 1)];
        }
        ++count_;
        sum_ns_ += ns;
        min_ns_ = std::min(min_ns_, ns);
        max_ns_ = std::max(max_ns_, ns);
    }
    void merge(const histogram& o) {
        for (size_t i = 0; i < fine_buckets; ++i) fine_b_[i] += o.fine_b_[i];
        for (size_t i = 0; i < coarse_buckets; ++i) coarse_b_[i] += o.coarse_b_[i];
        count_ += o.count_;
        sum_ns_ += o.sum_ns_;
        min_ns_ = std::min(min_ns_, o.min_ns_);
        max_ns_ = std::max(max_ns_, o.max_ns_);
    }
    double percentile_us(double p) const {
        if (count_ == 0) return 0;
        const auto want = static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
        uint64_t seen = 0;
        for (size_t i = 0; i < fine_buckets; ++i) {
            seen += fine_b_[i];
            if (seen >= want) return static_cast<double>(i) + 0.5;
        }
        for (size_t i = 0; i < coarse_buckets; ++i) {
            seen += coarse_b_[i];
            if (seen >= want) return static_cast<double>(fine_buckets + i * 100 + 50);
        }
        return static_cast<double>(max_ns_) / 1000.0;
    }
    uint64_t count() const { return count_; }
    double avg_us() const { return count_ ? static_cast<double>(sum_ns_) / count_ / 1000.0 : 0; }
    double min_us() const { return count_ ? static_cast<double>(min_ns_) / 1000.0 : 0; }
    double max_us() const { return static_cast<double>(max_ns_) / 1000.0; }

private:
    static constexpr size_t fine_buckets = 10000;
    static constexpr size_t coarse_buckets = 10000;
    std::vector<uint64_t> fine_b_ = std::vector<uint64_t>(fine_buckets);
    std::vector<uint64_t> coarse_b_ = std::vector<uint64_t>(coarse_buckets);
    uint64_t count_ = 0;
    uint64_t sum_ns_ = 0;
    uint64_t min_ns_ = UINT64_MAX;
    uint64_t max_ns_ = 0;
};

struct worker_result {
    uint32_t nsid = 0;
    histogram lat;
    uint64_t bytes = 0;
    uint64_t errors = 0;
    uint64_t mismatches = 0;
    std::string first_error;
};

struct job {
    nvmf::host::queue* q = nullptr;
    uint32_t nsid = 0;
    uint32_t block_size = 512;
    uint64_t slice_start = 0;  // LBA range this queue owns
    uint64_t slice_blocks = 0;
    int cpu = -1;
    worker_result res;
};

bool parse_trid(const std::string& s, nvmf::host::controller_options* o, std::string* err) {
    std::istringstream in(s);
    std::string kv;
    while (in >> kv) {
        const auto colon = kv.find(':');
        if (colon == std::string::npos) {
            *err = "bad -r item '" + kv + "'";
            return false;
        }
        std::string k = kv.substr(0, colon), v = kv.substr(colon + 1);
        std::transform(k.begin(), k.end(), k.begin(), ::tolower);
        if (k == "trtype") {
            std::string t = v;
            std::transform(t.begin(), t.end(), t.begin(), ::toupper);
            if (t != "TCP") {
                *err = "only trtype:TCP is supported";
                return false;
            }
        } else if (k == "adrfam") {
        } else if (k == "traddr") {
            o->traddr = v;
        } else if (k == "trsvcid") {
            o->trsvcid = v;
        } else if (k == "subnqn") {
            o->subnqn = v;
        } else if (k == "hostnqn") {
            o->hostnqn = v;
        } else {
            *err = "unknown -r key '" + k + "'";
            return false;
        }
    }
    return true;
}

// Verify pattern: each block starts with (lba, generation), the rest is a
// stream seeded by both, so a misplaced, stale or torn block is caught.
void fill_block(uint8_t* b, uint32_t bs, uint64_t lba, uint64_t gen) {
    std::memcpy(b, &lba, 8);
    std::memcpy(b + 8, &gen, 8);
    uint64_t x = (lba * 0x9e3779b97f4a7c15ull) ^ (gen + 0x632be59bd9b4e019ull);
    for (uint32_t i = 16; i + 8 <= bs; i += 8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        std::memcpy(b + i, &x, 8);
    }
}

bool check_block(const uint8_t* b, uint32_t bs, uint64_t lba, uint64_t gen,
                 std::vector<uint8_t>& tmp) {
    tmp.resize(bs);
    fill_block(tmp.data(), bs, lba, gen);
    return std::memcmp(b, tmp.data(), bs) == 0;
}

void pin(int cpu) {
    if (cpu < 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

void run_job(job& j, const options& o, clock_type::time_point end, std::atomic<bool>& abort) {
    pin(j.cpu);
    const bool rand = o.workload.rfind("rand", 0) == 0;
    int read_pct = o.read_pct;
    if (read_pct < 0) {
        read_pct = (o.workload == "read" || o.workload == "randread")     ? 100
                   : (o.workload == "write" || o.workload == "randwrite") ? 0
                                                                          : 50;
    }
    const uint32_t nlb = o.io_size / j.block_size;
    const uint64_t slots_in_slice = j.slice_blocks / nlb;
    struct slot {
        std::vector<uint8_t> buf;
        bool busy = false;
        bool is_read = false;
        uint64_t unit = 0;
        clock_type::time_point start;
    };
    std::vector<slot> slots(o.depth);
    for (auto& s : slots) s.buf.resize(o.io_size);
    // Slot of each outstanding cid; a flat table, no allocation per I/O.
    constexpr size_t no_slot = SIZE_MAX;
    std::vector<size_t> by_cid(size_t{UINT16_MAX} + 1, no_slot);
    std::vector<uint64_t> gen(o.verify ? slots_in_slice : 0);  // per I/O unit
    std::vector<uint8_t> busy_unit(o.verify ? slots_in_slice : 0);
    std::vector<uint8_t> tmp;
    std::mt19937_64 rng(std::random_device{}() ^ (static_cast<uint64_t>(j.nsid) << 32) ^
                        j.slice_start);
    uint64_t seq = 0;
    auto pick_unit = [&]() -> uint64_t {
        for (int tries = 0; tries < 64; ++tries) {
            uint64_t u = rand ? rng() % slots_in_slice : (seq++ % slots_in_slice);
            if (!o.verify || !busy_unit[u]) return u;
        }
        return UINT64_MAX;
    };
    // Capsules wait in the queue until it must block for a completion or a
    // batch (--batch) is full, so a burst of completions is answered with few
    // writes, as spdk_nvme_perf's batched socket flush does.
    constexpr uint32_t defer = nvmf::host::submit_flag::defer;
    auto submit = [&](size_t si) -> bool {
        slot& s = slots[si];
        const uint64_t u = pick_unit();
        if (u == UINT64_MAX) return false;
        s.unit = u;
        s.is_read = static_cast<int>(rng() % 100) < read_pct;
        const uint64_t slba = j.slice_start + u * nlb;
        nvmf::result<uint16_t> cid = nvmf::make_error(-1, "");
        if (s.is_read) {
            cid = j.q->submit(nvmf::host::cmd::read(j.nsid, slba, nlb), {}, s.buf, defer);
        } else {
            if (o.verify) {
                const uint64_t g = gen[u] + 1;
                for (uint32_t b = 0; b < nlb; ++b)
                    fill_block(s.buf.data() + b * j.block_size, j.block_size, slba + b, g);
            }
            cid = j.q->submit(nvmf::host::cmd::write(j.nsid, slba, nlb), s.buf, {}, defer);
        }
        if (!cid) {
            ++j.res.errors;
            if (j.res.first_error.empty()) j.res.first_error = cid.err().message;
            abort = true;
            return false;
        }
        if (o.verify) busy_unit[u] = 1;
        s.busy = true;
        s.start = clock_type::now();
        by_cid[*cid] = si;
        return true;
    };
    size_t inflight = 0;
    for (size_t i = 0; i < slots.size(); ++i) inflight += submit(i) ? 1 : 0;
    while (inflight > 0) {
        auto r = j.q->wait_any(10000);
        if (!r) {
            ++j.res.errors;
            if (j.res.first_error.empty()) j.res.first_error = r.err().message;
            abort = true;
            break;
        }
        const auto now = clock_type::now();
        const size_t si = by_cid[r->first];
        if (si == no_slot) continue;
        slot& s = slots[si];
        by_cid[r->first] = no_slot;
        s.busy = false;
        --inflight;
        const auto& c = r->second;
        const uint64_t slba = j.slice_start + s.unit * nlb;
        if (!c.ok()) {
            ++j.res.errors;
            if (j.res.first_error.empty())
                j.res.first_error = nvmf::host::status_string(c.status());
        } else {
            j.res.lat.add(static_cast<uint64_t>(
                std::chrono::duration_cast<std::chrono::nanoseconds>(now - s.start).count()));
            j.res.bytes += o.io_size;
            if (o.verify) {
                if (s.is_read) {
                    if (gen[s.unit] != 0) {
                        for (uint32_t b = 0; b < nlb; ++b) {
                            if (!check_block(s.buf.data() + b * j.block_size, j.block_size,
                                             slba + b, gen[s.unit], tmp)) {
                                ++j.res.mismatches;
                                if (j.res.first_error.empty()) {
                                    j.res.first_error = "mismatch at nsid " +
                                                        std::to_string(j.nsid) + " lba " +
                                                        std::to_string(slba + b);
                                }
                            }
                        }
                    }
                } else {
                    ++gen[s.unit];
                }
            }
        }
        if (o.verify) busy_unit[s.unit] = 0;
        if (!abort && now < end && !g_stop.load(std::memory_order_relaxed) && submit(si)) {
            ++inflight;
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    options o;
    CLI::App app{"nvmf-perf: NVMe/TCP load generator (spdk_nvme_perf style)"};
    app.add_option("-r,--transport-id", o.trid,
                   "'trtype:TCP adrfam:IPv4 traddr:A trsvcid:P subnqn:NQN'")
        ->required();
    app.add_option("-q,--io-depth", o.depth, "commands outstanding per queue")
        ->check(CLI::Range(1, 1024));
    app.add_option("-o,--io-size", o.io_size, "bytes per I/O")->check(CLI::Range(512, 1 << 20));
    app.add_option("-w,--io-pattern", o.workload, "read|write|randread|randwrite|rw|randrw")
        ->check(CLI::IsMember({"read", "write", "randread", "randwrite", "rw", "randrw"}));
    app.add_option("-M,--rwmixread", o.read_pct, "read percentage for rw/randrw")
        ->check(CLI::Range(0, 100));
    app.add_option("-t,--time", o.seconds, "seconds to run")->check(CLI::Range(1, 86400));
    app.add_option("-c,--core-mask", o.cpumask, "cores for the I/O threads");
    app.add_option("-P,--num-qpairs", o.queues_per_ns, "I/O queues per namespace")
        ->check(CLI::Range(1, 64));
    app.add_option("-k,--keepalive", o.keepalive_ms,
                   "keep alive timeout in milliseconds (as spdk_nvme_perf -k); Keep Alive "
                   "commands go out four times per period")
        ->check(CLI::Range(1000u, 3600000u));
    app.add_flag("--verify", o.verify, "check every block read against what was written");
    app.add_flag("--hdgst", o.hdgst, "header digest");
    app.add_flag("--ddgst", o.ddgst, "data digest");
    app.add_flag("--json", o.json, "print results as JSON");
    app.add_option("--dhchap-key", o.dhchap_key,
                   "DH-HMAC-CHAP host key: a key file (0600, as spdk_nvme_perf takes) or the "
                   "DHHC-1 text; used when the target asks for authentication");
    app.add_option("--dhchap-ctrlr-key", o.dhchap_ctrlr_key,
                   "DH-HMAC-CHAP controller key (file or DHHC-1 text): authenticate the "
                   "target too");
    app.add_option("--dhchap-digests", o.dhchap_digests,
                   "digests to offer, e.g. sha256,sha384 (default: all)");
    app.add_option("--dhchap-dhgroups", o.dhchap_dhgroups,
                   "DH groups to offer, e.g. null,ffdhe2048 (default: all)");
    app.add_option("--busy-poll-us", o.busy_poll_us,
                   "microseconds an I/O queue polls its socket before it sleeps (0: sleep at "
                   "once); like spdk_nvme_perf, the default keeps the core busy under load")
        ->check(CLI::Range(0u, 1000000u))
        ->capture_default_str();
    app.add_option("--batch", o.batch,
                   "capsules sent per write (0: all that are ready when the queue must wait; "
                   "default: a quarter of -q)")
        ->check(CLI::Range(0, 1024));
    app.add_option("--psk", o.psk,
                   "TLS 1.3 with this PSK (NVMeTLSkey-1:HH:...: or a file holding it), for a "
                   "secure channel listener");
    app.add_option("--psk-identity-version", o.psk_identity_version,
                   "PSK identity to offer: 0 (NVMe0R, SPDK's) or 1 (NVMe1R with digest)")
        ->check(CLI::Range(0, 1));
    app.add_flag("--no-ktls", o.no_ktls, "keep the TLS record layer in OpenSSL (no kTLS)");
    app.add_flag("--concat", o.concat,
                 "secure channel concatenation (as nvme connect --concat): DH-HMAC-CHAP on a "
                 "plain admin queue generates the TLS PSK of the admin and I/O queues; needs "
                 "--dhchap-key, a secure_concat listener")
        ->excludes("--psk");
    CLI11_PARSE(app, argc, argv);
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);

    nvmf::host::controller_options co;
    std::string err;
    if (!parse_trid(o.trid, &co, &err)) {
        std::cerr << "nvmf-perf: " << err << "\n";
        return 2;
    }
    if (co.subnqn == nvmf::spec::discovery_nqn) {
        std::cerr << "nvmf-perf: -r needs subnqn:NQN of an NVM subsystem\n";
        return 2;
    }
    auto cpus = nvmf::parse_cpumask(o.cpumask, &err);
    if (cpus.empty()) {
        std::cerr << "nvmf-perf: " << err << "\n";
        return 2;
    }
    co.hdgst = o.hdgst;
    co.ddgst = o.ddgst;
    co.num_io_queues = 0;
    if (o.keepalive_ms != 0) co.kato_ms = o.keepalive_ms;
    if (auto r = nvmf::host::auth_from_args(co.auth, o.dhchap_key, o.dhchap_ctrlr_key,
                                            o.dhchap_digests, o.dhchap_dhgroups);
        !r) {
        std::cerr << "nvmf-perf: " << r.err().message << "\n";
        return 2;
    }
    if (!o.psk.empty()) {
        auto key = nvmf::host::read_psk_argument(o.psk);
        if (!key) {
            std::cerr << "nvmf-perf: " << key.err().message << "\n";
            return 2;
        }
        co.psk = *key;
        co.psk_identity_version = o.psk_identity_version;
    }
    co.ktls = !o.no_ktls;
    co.concat = o.concat;
    if (co.concat && !co.auth.key) {
        std::cerr << "nvmf-perf: --concat needs --dhchap-key\n";
        return 2;
    }
    auto ctrl = nvmf::host::controller::create(co);
    if (!ctrl) {
        std::cerr << "nvmf-perf: connect: " << ctrl.err().message << "\n";
        return 1;
    }
    auto& c = **ctrl;
    if (c.admin_auth()) {
        std::cerr << "nvmf-perf: DH-HMAC-CHAP authenticated (" << describe(*c.admin_auth())
                  << ")\n";
    }
    if (c.tls()) std::cerr << "nvmf-perf: " << nvmf::host::tls_summary(c) << "\n";
    if (c.max_transfer() && o.io_size > c.max_transfer()) {
        std::cerr << "nvmf-perf: -o " << o.io_size << " exceeds the target's MDTS ("
                  << c.max_transfer() << ")\n";
        return 2;
    }
    const uint32_t mqes_entries = static_cast<uint32_t>(c.cap() & 0xffff) + 1;
    if (o.depth + 1 > mqes_entries) {
        std::cerr << "nvmf-perf: -q " << o.depth << " capped to " << mqes_entries - 1
                  << " (the target's queue holds " << mqes_entries << " entries)\n";
        o.depth = mqes_entries - 1;
    }
    auto nsids = c.active_ns_list();
    if (!nsids || nsids->empty()) {
        std::cerr << "nvmf-perf: no active namespace\n";
        return 1;
    }
    std::vector<std::unique_ptr<job>> jobs;
    for (uint32_t nsid : *nsids) {
        auto id = c.identify_ns(nsid);
        if (!id) {
            std::cerr << "nvmf-perf: identify ns " << nsid << ": " << id.err().message << "\n";
            return 1;
        }
        const uint32_t bs = 1u << id->lbaf[id->flbas & 0xf].lbads;
        if (o.io_size % bs != 0) {
            std::cerr << "nvmf-perf: -o must be a multiple of the block size " << bs << " of ns "
                      << nsid << "\n";
            return 2;
        }
        const uint64_t per = id->nsze / o.queues_per_ns;
        for (uint32_t p = 0; p < o.queues_per_ns; ++p) {
            auto j = std::make_unique<job>();
            j->nsid = nsid;
            j->block_size = bs;
            j->slice_start = o.verify ? per * p : 0;
            j->slice_blocks = o.verify ? per : id->nsze;
            if (j->slice_blocks < o.io_size / bs) {
                std::cerr << "nvmf-perf: namespace " << nsid << " is too small\n";
                return 2;
            }
            jobs.push_back(std::move(j));
        }
    }
    std::vector<std::unique_ptr<nvmf::host::queue>> queues;
    const auto entries = static_cast<uint16_t>(o.depth + 1);
    for (size_t i = 0; i < jobs.size(); ++i) {
        auto q = c.open_queue(entries, c.io_icd_size());
        if (!q) {
            std::cerr << "nvmf-perf: I/O queue: " << q.err().message << "\n";
            return 1;
        }
        auto r =
            c.connect_io(**q, static_cast<uint16_t>(i + 1), static_cast<uint16_t>(entries - 1));
        if (!r || !r->ok()) {
            std::cerr << "nvmf-perf: I/O queue " << i + 1 << " connect failed: "
                      << (r ? nvmf::host::status_string(r->status()) : r.err().message) << "\n";
            return 1;
        }
        (*q)->set_busy_poll(o.busy_poll_us);
        (*q)->set_defer_limit(o.batch >= 0 ? static_cast<uint32_t>(o.batch)
                                           : std::max<uint32_t>(1, o.depth / 4));
        jobs[i]->q = q->get();
        jobs[i]->cpu = cpus[i % cpus.size()];
        queues.push_back(std::move(*q));
    }
    std::atomic<bool> abort{false};
    rusage ru0{};
    getrusage(RUSAGE_SELF, &ru0);
    const auto start = clock_type::now();
    const auto end = start + std::chrono::seconds(o.seconds);
    std::vector<std::thread> threads;
    threads.reserve(jobs.size());
    for (auto& j : jobs) threads.emplace_back([&, jp = j.get()] { run_job(*jp, o, end, abort); });
    // Keep the controller alive from the admin queue while the workers run.
    const auto ka_every = std::chrono::milliseconds(std::min<uint32_t>(500, co.kato_ms / 4));
    std::thread ka([&] {
        while (clock_type::now() < end && !abort && !g_stop.load(std::memory_order_relaxed)) {
            std::this_thread::sleep_for(ka_every);
            (void)c.keep_alive();
        }
    });
    for (auto& t : threads) t.join();
    ka.join();
    const double secs = std::chrono::duration<double>(clock_type::now() - start).count();
    rusage ru1{};
    getrusage(RUSAGE_SELF, &ru1);
    auto tv = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
    const double cpu = tv(ru1.ru_utime) - tv(ru0.ru_utime) + tv(ru1.ru_stime) - tv(ru0.ru_stime);
    (void)c.shutdown();

    std::map<uint32_t, worker_result> per_ns;
    worker_result total;
    for (auto& j : jobs) {
        auto& r = per_ns[j->nsid];
        r.nsid = j->nsid;
        r.lat.merge(j->res.lat);
        r.bytes += j->res.bytes;
        r.errors += j->res.errors;
        r.mismatches += j->res.mismatches;
        if (r.first_error.empty()) r.first_error = j->res.first_error;
        total.lat.merge(j->res.lat);
        total.bytes += j->res.bytes;
        total.errors += j->res.errors;
        total.mismatches += j->res.mismatches;
        if (total.first_error.empty()) total.first_error = j->res.first_error;
    }
    auto row = [&](const worker_result& r) {
        return nlohmann::json{{"iops", r.lat.count() / secs},
                              {"mib_s", r.bytes / secs / 1048576.0},
                              {"ios", r.lat.count()},
                              {"errors", r.errors},
                              {"mismatches", r.mismatches},
                              {"lat_us",
                               {{"avg", r.lat.avg_us()},
                                {"min", r.lat.min_us()},
                                {"max", r.lat.max_us()},
                                {"p50", r.lat.percentile_us(50)},
                                {"p99", r.lat.percentile_us(99)},
                                {"p99_9", r.lat.percentile_us(99.9)}}}};
    };
    if (o.json) {
        nlohmann::json out{{"seconds", secs}, {"perf_cpu_seconds", cpu}, {"total", row(total)}};
        out["command"] = {{"depth", o.depth},
                          {"io_size", o.io_size},
                          {"workload", o.workload},
                          {"verify", o.verify}};
        for (auto& [nsid, r] : per_ns) out["namespaces"][std::to_string(nsid)] = row(r);
        std::cout << out.dump(2) << "\n";
    } else {
        std::printf("%-28s %12s %10s %10s %10s %10s %10s %10s\n", "Device", "IOPS", "MiB/s",
                    "avg(us)", "min(us)", "p50(us)", "p99(us)", "p99.9(us)");
        auto print = [&](const std::string& name, const worker_result& r) {
            std::printf("%-28s %12.1f %10.2f %10.2f %10.2f %10.1f %10.1f %10.1f\n", name.c_str(),
                        r.lat.count() / secs, r.bytes / secs / 1048576.0, r.lat.avg_us(),
                        r.lat.min_us(), r.lat.percentile_us(50), r.lat.percentile_us(99),
                        r.lat.percentile_us(99.9));
        };
        for (auto& [nsid, r] : per_ns)
            print("NSID " + std::to_string(nsid) + " " + co.subnqn.substr(0, 12) + "..", r);
        print("Total", total);
        std::printf("errors %lu, mismatches %lu, max latency %.1f us, perf CPU %.2f s\n",
                    static_cast<unsigned long>(total.errors),
                    static_cast<unsigned long>(total.mismatches), total.lat.max_us(), cpu);
    }
    if (!total.first_error.empty())
        std::cerr << "nvmf-perf: first error: " << total.first_error << "\n";
    return (total.errors || total.mismatches) ? 1 : 0;
}
