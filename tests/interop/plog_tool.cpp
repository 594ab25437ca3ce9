// nvmf-plog: the guest side of tests/interop/run-power-loss (issue 17). Three
// jobs, each a subcommand:
//
//   write DEV RECORDS DM SEED LBAS FUA_N FLUSH_N PLAIN_N
//       NVMe passthrough on DEV (the kernel host's /dev/nvmeXnY): FUA_N writes
//       with FUA, then FLUSH_N plain writes in batches of 1-8 each followed by
//       a Flush, then PLAIN_N plain writes with no Flush (for the shutdown
//       notification test, whose durable point the caller marks). Each write
//       is one logical block at a random LBA below LBAS whose content names
//       it (seq, LBA, seed). After each durable point (a FUA write or a Flush
//       acknowledged) it puts a mark in the dm-log-writes device DM and
//       appends to RECORDS: "W seq lba fua" per acknowledged write, "F" per
//       acknowledged Flush, "M name" per mark.
//   durable RECORDS DM NAME
//       appends "F" and "M NAME" and marks the log: for a durable point the
//       caller established (a shutdown notification).
//   entries LOG
//       prints the log's entries: "index flags sector nr_sectors [mark]".
//   replay LOG DEST FROM TO
//       applies entries FROM..TO-1 (1-based) to DEST, as replay-log would.
//   check IMAGE RECORDS LOG TO
//       for the log replayed to entry TO (TO-1 applied): finds the last of
//       our marks before TO and checks IMAGE (the file bdev's file on the
//       mounted replay, or the replayed device) block by block: every block
//       whose last write was durable at that mark holds that write or a later
//       one to it, byte for byte; any other block holds zeros or some write
//       to it. Exit 1 with a line per bad block.
//
// Why a tool of our own: the guest has no replay-log (xfstests) and no python
// or perl; the shell replay in linux-host's example runs several processes per
// entry, too slow for hundreds of entries times dozens of replay points. The
// log format is the kernel's Documentation/admin-guide/device-mapper/log-writes.rst.
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/nvme_ioctl.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

extern char** environ;  // NOLINT(readability-redundant-declaration): posix_spawnp's envp

namespace {

// log-writes.rst: entry flags.
constexpr uint64_t log_flush = 1, log_fua = 2, log_discard = 4, log_mark = 8;
constexpr uint64_t log_magic = 0x6a736677736872ULL;
constexpr uint32_t block_magic = 0x474f4c50;  // "PLOG"

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "nvmf-plog: %s\n", what.c_str());
    std::exit(2);  // NOLINT(concurrency-mt-unsafe): single-threaded tool
}

uint64_t parse_u64(const char* s) {
    char* end = nullptr;
    errno = 0;
    const uint64_t v = std::strtoull(s, &end, 0);
    if (errno != 0 || end == s || *end != '\0') die(std::string("not a number: ") + s);
    return v;
}

uint64_t splitmix(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// The content of write `seq`: a header naming it, then bytes from its seed.
void fill_block(std::vector<uint8_t>& b, uint64_t seed, uint64_t seq, uint64_t lba) {
    uint64_t x = seed ^ (seq * 0x2545f4914f6cdd1dULL);
    for (size_t i = 0; i < b.size(); i += 8) {
        const uint64_t v = splitmix(x);
        std::memcpy(&b[i], &v, std::min<size_t>(8, b.size() - i));
    }
    std::memcpy(&b[0], &block_magic, 4);
    std::memcpy(&b[8], &seq, 8);
    std::memcpy(&b[16], &lba, 8);
    std::memcpy(&b[24], &seed, 8);
}

void run_dmsetup_mark(const std::string& dm, const std::string& name) {
    const std::string a0 = "dmsetup", a1 = "message", a3 = "0", a4 = "mark";
    std::string a2 = dm, a5 = name;
    std::vector<char*> argv{const_cast<char*>(a0.c_str()),
                            const_cast<char*>(a1.c_str()),
                            a2.data(),
                            const_cast<char*>(a3.c_str()),
                            const_cast<char*>(a4.c_str()),
                            a5.data(),
                            nullptr};
    pid_t pid = 0;
    if (posix_spawnp(&pid, "dmsetup", nullptr, nullptr, argv.data(), environ) != 0) {
        die("cannot run dmsetup");
    }
    int st = 0;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        die("dmsetup message " + dm + " 0 mark " + name + " failed");
    }
}

struct records {
    FILE* f;
    void line(const std::string& s) const {
        std::fprintf(f, "%s\n", s.c_str());
        std::fflush(f);
    }
};

int cmd_write(char** argv) {
    const std::string dev = argv[0];
    const std::string dm = argv[2];
    const uint64_t seed = parse_u64(argv[3]);
    const uint64_t lbas = parse_u64(argv[4]);
    const uint64_t fua_n = parse_u64(argv[5]);
    const uint64_t flush_n = parse_u64(argv[6]);
    const uint64_t plain_n = parse_u64(argv[7]);
    const int fd = ::open(dev.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) die("cannot open " + dev + ": " + std::strerror(errno));
    const int nsid = ioctl(fd, NVME_IOCTL_ID);
    if (nsid <= 0) die(dev + ": no namespace id (not an NVMe namespace?)");
    int bs = 0;
    if (ioctl(fd, BLKSSZGET, &bs) != 0 || bs < 512) die(dev + ": no logical block size");
    FILE* rf = std::fopen(argv[1], "a");
    if (rf == nullptr) die(std::string("cannot open ") + argv[1]);
    const records rec{rf};
    rec.line("S " + std::to_string(seed) + " " + std::to_string(bs));
    std::vector<uint8_t> buf(static_cast<size_t>(bs));
    uint64_t rng = seed * 7 + 1, seq = 0, flushes = 0;

    auto write_one = [&](bool fua) {
        ++seq;
        const uint64_t lba = splitmix(rng) % lbas;
        fill_block(buf, seed, seq, lba);
        nvme_passthru_cmd c{};
        c.opcode = 0x01;  // Write
        c.nsid = static_cast<uint32_t>(nsid);
        c.addr = reinterpret_cast<uintptr_t>(buf.data());
        c.data_len = static_cast<uint32_t>(bs);
        c.cdw10 = static_cast<uint32_t>(lba);
        c.cdw11 = static_cast<uint32_t>(lba >> 32);
        c.cdw12 = fua ? (1U << 30) : 0;  // NLB 0 (one block), bit 30 FUA
        const int r = ioctl(fd, NVME_IOCTL_IO_CMD, &c);
        if (r != 0) die("write seq " + std::to_string(seq) + ": status " + std::to_string(r));
        rec.line("W " + std::to_string(seq) + " " + std::to_string(lba) + " " + (fua ? "1" : "0"));
    };
    auto mark = [&](const std::string& name) {
        run_dmsetup_mark(dm, name);
        rec.line("M " + name);
    };
    for (uint64_t i = 0; i < fua_n; ++i) {
        write_one(true);
        mark("fua" + std::to_string(seq));
    }
    uint64_t done = 0;
    while (done < flush_n) {
        const uint64_t batch = std::min<uint64_t>(1 + splitmix(rng) % 8, flush_n - done);
        for (uint64_t i = 0; i < batch; ++i) write_one(false);
        done += batch;
        nvme_passthru_cmd c{};
        c.opcode = 0x00;  // Flush
        c.nsid = static_cast<uint32_t>(nsid);
        const int r = ioctl(fd, NVME_IOCTL_IO_CMD, &c);
        if (r != 0) die("flush: status " + std::to_string(r));
        ++flushes;
        rec.line("F");
        mark("flush" + std::to_string(flushes));
    }
    for (uint64_t i = 0; i < plain_n; ++i) write_one(false);
    std::fclose(rf);
    close(fd);
    std::printf("wrote %" PRIu64 " blocks of %d bytes (%" PRIu64 " FUA, %" PRIu64 " with %" PRIu64
                " Flushes, %" PRIu64 " plain)\n",
                seq, bs, fua_n, flush_n, flushes, plain_n);
    return 0;
}

int cmd_durable(char** argv) {
    FILE* rf = std::fopen(argv[0], "a");
    if (rf == nullptr) die(std::string("cannot open ") + argv[0]);
    const records rec{rf};
    rec.line("F");
    run_dmsetup_mark(argv[1], argv[2]);
    rec.line(std::string("M ") + argv[2]);
    std::fclose(rf);
    return 0;
}

struct log_entry {
    uint64_t index;
    uint64_t sector;
    uint64_t nr_sectors;
    uint64_t flags;
    uint64_t data_off;  // byte offset of the data in the log
    std::string mark;
};

struct log_file {
    int fd;
    uint32_t sectorsize;
    std::vector<log_entry> entries;
};

void read_exact(int fd, void* p, size_t n, uint64_t off, const char* what) {
    auto* c = static_cast<uint8_t*>(p);
    while (n > 0) {
        const ssize_t r = pread(fd, c, n, static_cast<off_t>(off));
        if (r <= 0) die(std::string("short read of ") + what);
        c += r;
        n -= static_cast<size_t>(r);
        off += static_cast<uint64_t>(r);
    }
}

log_file open_log(const char* path) {
    log_file l{::open(path, O_RDONLY | O_CLOEXEC), 0, {}};
    if (l.fd < 0) die(std::string("cannot open ") + path);
    uint8_t super[32] = {};
    read_exact(l.fd, super, sizeof super, 0, "the log super block");
    uint64_t magic = 0, nr = 0;
    std::memcpy(&magic, super, 8);
    std::memcpy(&nr, super + 16, 8);
    std::memcpy(&l.sectorsize, super + 24, 4);
    if (magic != log_magic) die(std::string(path) + ": not a dm-log-writes log");
    if (l.sectorsize < 512 || l.sectorsize > 65536) die("bad log sector size");
    uint64_t off = l.sectorsize;  // entry 1 follows the super block's sector
    std::vector<uint8_t> sec(l.sectorsize);
    for (uint64_t i = 1; i <= nr; ++i) {
        read_exact(l.fd, sec.data(), sec.size(), off, "a log entry");
        log_entry e{i, 0, 0, 0, off + l.sectorsize, {}};
        uint64_t data_len = 0;
        std::memcpy(&e.sector, &sec[0], 8);
        std::memcpy(&e.nr_sectors, &sec[8], 8);
        std::memcpy(&e.flags, &sec[16], 8);
        std::memcpy(&data_len, &sec[24], 8);
        if ((e.flags & log_mark) != 0) {
            e.mark.assign(reinterpret_cast<const char*>(&sec[32]),
                          std::min<uint64_t>(data_len, l.sectorsize - 32));
            const size_t nul = e.mark.find('\0');
            if (nul != std::string::npos) e.mark.resize(nul);
        }
        off += l.sectorsize;
        if ((e.flags & log_discard) == 0) off += e.nr_sectors * l.sectorsize;
        l.entries.push_back(std::move(e));
    }
    return l;
}

int cmd_entries(char** argv) {
    const log_file l = open_log(argv[0]);
    for (const log_entry& e : l.entries) {
        std::printf("%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "%s%s\n", e.index, e.flags,
                    e.sector, e.nr_sectors, e.mark.empty() ? "" : " ", e.mark.c_str());
    }
    close(l.fd);
    return 0;
}

int cmd_replay(char** argv) {
    const log_file l = open_log(argv[0]);
    const int dest = ::open(argv[1], O_WRONLY | O_CLOEXEC);
    if (dest < 0) die(std::string("cannot open ") + argv[1]);
    const uint64_t from = parse_u64(argv[2]), to = parse_u64(argv[3]);
    std::vector<uint8_t> data;
    for (const log_entry& e : l.entries) {
        if (e.index < from || e.index >= to) continue;
        if ((e.flags & log_discard) != 0 || e.nr_sectors == 0) continue;
        data.resize(e.nr_sectors * l.sectorsize);
        read_exact(l.fd, data.data(), data.size(), e.data_off, "entry data");
        if (pwrite(dest, data.data(), data.size(), static_cast<off_t>(e.sector * l.sectorsize)) !=
            static_cast<ssize_t>(data.size())) {
            die("write to " + std::string(argv[1]) + " failed");
        }
    }
    if (fsync(dest) != 0) die("fsync of the replay failed");
    close(dest);
    close(l.fd);
    return 0;
}

struct write_rec {
    uint64_t seq;
    uint64_t lba;
};

int cmd_check(char** argv) {
    const int img = ::open(argv[0], O_RDONLY | O_CLOEXEC);
    if (img < 0) die(std::string("cannot open ") + argv[0]);
    const log_file l = open_log(argv[2]);
    const uint64_t to = parse_u64(argv[3]);
    std::ifstream rf(argv[1]);
    if (!rf) die(std::string("cannot open ") + argv[1]);
    std::vector<std::string> lines;
    std::map<std::string, size_t> mark_line;
    for (std::string s; std::getline(rf, s);) {
        if (s.rfind("M ", 0) == 0) mark_line[s.substr(2)] = lines.size();
        lines.push_back(s);
    }
    // The last of our marks in the replayed part of the log.
    std::optional<size_t> upto;
    std::string mark_name;
    for (const log_entry& e : l.entries) {
        if (e.index >= to) break;
        if ((e.flags & log_mark) == 0) continue;
        auto it = mark_line.find(e.mark);
        if (it != mark_line.end()) {
            upto = it->second;
            mark_name = e.mark;
        }
    }
    // Durable at the mark: a FUA write, or a plain write a later Flush covered.
    std::map<uint64_t, uint64_t> durable;                // lba -> seq
    std::map<uint64_t, std::vector<uint64_t>> versions;  // lba -> every seq written to it
    std::map<uint64_t, uint64_t> lba_of;                 // seq -> lba
    std::vector<write_rec> pending;
    uint64_t seed = 0, bs = 0;
    for (size_t i = 0; i < lines.size(); ++i) {
        const std::string& s = lines[i];
        const bool before = upto && i <= *upto;
        if (s.rfind("W ", 0) == 0) {
            uint64_t seq = 0, lba = 0, fua = 0;
            if (std::sscanf(s.c_str(), "W %" SCNu64 " %" SCNu64 " %" SCNu64, &seq, &lba, &fua) !=
                3) {
                die("bad record line: " + s);
            }
            versions[lba].push_back(seq);
            lba_of[seq] = lba;
            if (!before) continue;
            if (fua != 0) {
                durable[lba] = seq;
            } else {
                pending.push_back({seq, lba});
            }
        } else if (s == "F" && before) {
            for (const write_rec& w : pending) durable[w.lba] = w.seq;
            pending.clear();
        } else if (s.rfind("S ", 0) == 0) {
            if (std::sscanf(s.c_str(), "S %" SCNu64 " %" SCNu64, &seed, &bs) != 2) {
                die("bad record line: " + s);
            }
        }
    }
    if (bs < 512) die("no 'S seed block_size' line in the records");
    std::vector<uint8_t> got(static_cast<size_t>(bs)), want(static_cast<size_t>(bs));
    const std::vector<uint8_t> zeros(static_cast<size_t>(bs));
    size_t bad = 0, checked_durable = 0;
    for (const auto& [lba, seqs] : versions) {
        read_exact(img, got.data(), got.size(), lba * bs, "the image");
        // Which write (if any) does the block hold, and is it whole?
        uint32_t magic = 0;
        uint64_t seq = 0, hlba = 0;
        std::memcpy(&magic, &got[0], 4);
        std::memcpy(&seq, &got[8], 8);
        std::memcpy(&hlba, &got[16], 8);
        std::string holds;
        std::optional<uint64_t> held;
        if (got == zeros) {
            holds = "zeros";
        } else if (magic == block_magic && hlba == lba && lba_of.count(seq) != 0 &&
                   lba_of[seq] == lba) {
            fill_block(want, seed, seq, lba);
            if (got == want) {
                held = seq;
                holds = "write " + std::to_string(seq);
            } else {
                holds = "a torn or corrupt copy of write " + std::to_string(seq);
            }
        } else {
            holds = "data that no write put there";
        }
        const auto d = durable.find(lba);
        std::string why;
        if (d != durable.end()) {
            ++checked_durable;
            if (!held || *held < d->second) {
                why = "write " + std::to_string(d->second) + " was acknowledged as durable";
            }
        } else if (!held && holds != "zeros") {
            why = "not a write of the test nor zeros";
        }
        if (!why.empty()) {
            ++bad;
            if (bad <= 10) {
                std::printf("  LBA %" PRIu64 ": %s, but it holds %s\n", lba, why.c_str(),
                            holds.c_str());
            }
        }
    }
    std::printf("entry %" PRIu64 " (last mark %s): %zu LBAs checked, %zu durable, %zu bad\n",
                to - 1, mark_name.empty() ? "none" : mark_name.c_str(), versions.size(),
                checked_durable, bad);
    close(img);
    close(l.fd);
    return bad == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string cmd = argc > 1 ? argv[1] : "";
    if (cmd == "write" && argc == 10) return cmd_write(argv + 2);
    if (cmd == "durable" && argc == 5) return cmd_durable(argv + 2);
    if (cmd == "entries" && argc == 3) return cmd_entries(argv + 2);
    if (cmd == "replay" && argc == 6) return cmd_replay(argv + 2);
    if (cmd == "check" && argc == 6) return cmd_check(argv + 2);
    std::fprintf(stderr,
                 "usage: nvmf-plog write DEV RECORDS DM SEED LBAS FUA_N FLUSH_N PLAIN_N\n"
                 "       nvmf-plog durable RECORDS DM NAME\n"
                 "       nvmf-plog entries LOG\n"
                 "       nvmf-plog replay LOG DEST FROM TO\n"
                 "       nvmf-plog check IMAGE RECORDS LOG TO\n");
    return 2;
}
