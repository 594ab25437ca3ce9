// Power cycles and unsafe shutdowns of a file bdev, for the SMART / Health
// log: a file is the drive, opening it is powering it on. The record lives in
// the file's extended attribute power_xattr as "CYCLES UNSAFE open|clean":
// each read-write open counts a power cycle, and an unsafe shutdown when the
// previous opener never closed it cleanly (kill -9, a crash, a power cut);
// a clean close (bdev deleted, daemon stopped) writes "clean". Read-only
// bdevs report the record without changing it. Block devices (no lasting
// attributes on device nodes) and file systems that keep no user extended
// attributes keep no record: both counters are 0 there.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nvmf::bdev {

constexpr const char* power_xattr = "user.nvmf-target.power";

struct power_record {
    uint64_t cycles = 0;
    uint64_t unsafe_shutdowns = 0;
    bool open = false;  // opened and not (yet) closed cleanly
};

// "CYCLES UNSAFE open|clean"; nullopt for anything else.
std::optional<power_record> parse_power_record(std::string_view text);
std::string format_power_record(const power_record& r);
// The record once opened again: one more cycle, one more unsafe shutdown if
// the last opener left it open.
power_record power_on(const power_record& prev);

// Control path. Reads the record of fd (none or unreadable: zeroes) and,
// when `writable`, stores its power_on() successor. Returns what the SMART
// log reports for this bdev, and whether the record is kept.
struct power_state {
    power_record record;
    bool kept = false;
};
power_state power_on_file(int fd, bool writable);
// Marks a kept record clean (the bdev is being closed in good order).
void power_off_file(int fd, const power_state& s);

}  // namespace nvmf::bdev
