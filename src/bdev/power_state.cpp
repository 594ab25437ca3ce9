// Power cycles and unsafe shutdowns of file bdevs (see power_state.hpp).
#include "bdev/power_state.hpp"

#include <sys/xattr.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "util/log.hpp"

namespace nvmf::bdev {
namespace {

bool take_number(std::string_view& s, uint64_t* out) {
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
    if (ec != std::errc{} || end == s.data()) return false;
    s.remove_prefix(static_cast<size_t>(end - s.data()));
    return true;
}

bool take_space(std::string_view& s) {
    if (s.empty() || s.front() != ' ') return false;
    s.remove_prefix(1);
    return true;
}

}  // namespace

std::optional<power_record> parse_power_record(std::string_view s) {
    power_record r;
    if (!take_number(s, &r.cycles) || !take_space(s) || !take_number(s, &r.unsafe_shutdowns) ||
        !take_space(s)) {
        return std::nullopt;
    }
    if (s == "open") {
        r.open = true;
    } else if (s != "clean") {
        return std::nullopt;
    }
    return r;
}

std::string format_power_record(const power_record& r) {
    return std::to_string(r.cycles) + " " + std::to_string(r.unsafe_shutdowns) + " " +
           (r.open ? "open" : "clean");
}

power_record power_on(const power_record& prev) {
    return {prev.cycles + 1, prev.unsafe_shutdowns + (prev.open ? 1 : 0), true};
}

power_state power_on_file(int fd, bool writable) {
    power_state s;
    char buf[64];
    const ssize_t n = ::fgetxattr(fd, power_xattr, buf, sizeof(buf));
    if (n >= 0) {
        // Something else in our attribute: start again rather than refuse the file.
        if (auto r = parse_power_record({buf, static_cast<size_t>(n)})) s.record = *r;
    } else if (errno != ENODATA) {
        return s;  // no user extended attributes here: nothing kept
    }
    if (!writable) {
        // Reported as found; not ours to close (open stays with the writer).
        s.kept = n >= 0;
        s.record.open = false;
        return s;
    }
    const power_record next = power_on(s.record);
    const std::string text = format_power_record(next);
    if (::fsetxattr(fd, power_xattr, text.data(), text.size(), 0) != 0) {
        log::info("power cycles not kept: cannot store {}: {}", power_xattr, std::strerror(errno));
        return {};
    }
    return {next, true};
}

void power_off_file(int fd, const power_state& s) {
    if (!s.kept || !s.record.open) return;
    power_record r = s.record;
    r.open = false;
    const std::string text = format_power_record(r);
    if (::fsetxattr(fd, power_xattr, text.data(), text.size(), 0) != 0) {
        log::warn("cannot mark {} clean: {}: the next start counts an unsafe shutdown", power_xattr,
                  std::strerror(errno));
    }
}

}  // namespace nvmf::bdev
