// RADOS leases and fencing for the gateway group (see rados_lease.hpp).
#include "ha/rados_lease.hpp"

#include <sys/time.h>

#include <cstdlib>
#include <cstring>
#include <vector>

namespace nvmf::ha {

namespace {

constexpr const char* owner_xattr = "owner_addr";
constexpr size_t max_addr = 512;

error rados_error(int rc, const std::string& what) {
    return error{rc, what + ": " + std::strerror(-rc)};
}

timeval to_timeval(std::chrono::milliseconds d) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(d.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((d.count() % 1000) * 1000);
    return tv;
}

}  // namespace

result<rados_lease> rados_lease::open(rados_t cluster, const std::string& pool,
                                      const std::string& oid, std::string lock_name,
                                      std::string cookie, std::chrono::milliseconds duration) {
    rados_lease l;
    if (const int rc = rados_ioctx_create(cluster, pool.c_str(), &l.io_); rc < 0) {
        return rados_error(rc, "opening pool '" + pool + "'");
    }
    l.oid_ = oid;
    l.lock_name_ = std::move(lock_name);
    l.cookie_ = std::move(cookie);
    l.duration_ = duration;
    return l;
}

rados_lease::rados_lease(rados_lease&& o) noexcept
    : io_(o.io_), oid_(std::move(o.oid_)), lock_name_(std::move(o.lock_name_)),
      cookie_(std::move(o.cookie_)), duration_(o.duration_) {
    o.io_ = nullptr;
}

rados_lease::~rados_lease() {
    if (io_ != nullptr) rados_ioctx_destroy(io_);
}

result<void> rados_lease::acquire(const std::string& my_addr) {
    timeval d = to_timeval(duration_);
    int rc = rados_lock_exclusive(io_, oid_.c_str(), lock_name_.c_str(), cookie_.c_str(),
                                  "nvmf-target gateway group lease", &d, 0);
    // -EEXIST: this very client still holds it (a renewal that looked lost).
    if (rc == -EEXIST) {
        rc = rados_lock_exclusive(io_, oid_.c_str(), lock_name_.c_str(), cookie_.c_str(),
                                  "nvmf-target gateway group lease", &d,
                                  LIBRADOS_LOCK_FLAG_MUST_RENEW);
    }
    if (rc < 0) return rados_error(rc, "locking " + oid_);
    if (my_addr.empty()) return {};
    rc = rados_setxattr(io_, oid_.c_str(), owner_xattr, my_addr.data(), my_addr.size());
    if (rc < 0) {
        rados_unlock(io_, oid_.c_str(), lock_name_.c_str(), cookie_.c_str());
        return rados_error(rc, "recording the owner of " + oid_);
    }
    return {};
}

result<void> rados_lease::renew() {
    timeval d = to_timeval(duration_);
    const int rc =
        rados_lock_exclusive(io_, oid_.c_str(), lock_name_.c_str(), cookie_.c_str(),
                             "nvmf-target gateway group lease", &d, LIBRADOS_LOCK_FLAG_MUST_RENEW);
    if (rc < 0) return rados_error(rc, "renewing " + oid_);
    return {};
}

void rados_lease::release() {
    rados_unlock(io_, oid_.c_str(), lock_name_.c_str(), cookie_.c_str());
}

result<std::optional<lease_holder>> rados_lease::holder() const {
    int exclusive = 0;
    // rados_list_lockers says how big the buffers must be (-ERANGE); lockers
    // of a lease are one short entry, so one retry covers it.
    size_t tag_len = 64, clients_len = 256, cookies_len = 256, addrs_len = 256;
    for (int attempt = 0; attempt < 2; ++attempt) {
        std::vector<char> tag(tag_len), clients(clients_len), cookies(cookies_len),
            addrs(addrs_len);
        const ssize_t n = rados_list_lockers(
            io_, oid_.c_str(), lock_name_.c_str(), &exclusive, tag.data(), &tag_len, clients.data(),
            &clients_len, cookies.data(), &cookies_len, addrs.data(), &addrs_len);
        if (n == -ERANGE) continue;
        if (n == -ENOENT || n == 0) return std::optional<lease_holder>{};
        if (n < 0) return rados_error(static_cast<int>(n), "listing the lockers of " + oid_);
        // Each buffer holds n NUL-terminated strings; an exclusive lock has one.
        return std::optional<lease_holder>{lease_holder{
            std::string(clients.data()), std::string(cookies.data()), std::string(addrs.data())}};
    }
    return error{-ERANGE, "lockers of " + oid_ + " do not fit"};
}

result<std::string> rados_lease::last_owner() const {
    char buf[max_addr];
    const int rc = rados_getxattr(io_, oid_.c_str(), owner_xattr, buf, sizeof(buf));
    if (rc == -ENOENT || rc == -ENODATA) return std::string();
    if (rc < 0) return rados_error(rc, "reading the owner of " + oid_);
    return std::string(buf, static_cast<size_t>(rc));
}

result<std::string> client_address(rados_t cluster) {
    char* addrs = nullptr;
    const int rc = rados_getaddrs(cluster, &addrs);
    if (rc < 0) return rados_error(rc, "reading this client's address");
    std::string a(addrs);
    std::free(addrs);  // NOLINT(cppcoreguidelines-no-malloc): librados allocated it
    return a;
}

result<void> fence(rados_t cluster, const std::string& addr, uint32_t expire_s) {
    // rados_blocklist_add takes a mutable char*; it does not write to it.
    std::string a = addr;
    if (const int rc = rados_blocklist_add(cluster, a.data(), expire_s); rc < 0) {
        return rados_error(rc, "blocklisting " + addr);
    }
    if (const int rc = rados_wait_for_latest_osdmap(cluster); rc < 0) {
        return rados_error(rc, "waiting for the OSD map that blocklists " + addr);
    }
    return {};
}

}  // namespace nvmf::ha
