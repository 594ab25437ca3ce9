// A lease kept in RADOS: a cls_lock exclusive lock with a duration on one
// object, renewed by its holder before it runs out. Ceph's OSD enforces the
// expiry, so no gateway's clock decides who holds it. The holder records its
// RADOS client address in the object's "owner_addr" xattr; whoever takes the
// lease next blocklists that address first (fence()), so late writes of a
// holder that stalled rather than died are refused by every OSD.
#pragma once

#include <rados/librados.h>

#include <chrono>
#include <optional>
#include <string>

#include "util/result.hpp"

namespace nvmf::ha {

// librados' errno for a blocklisted client (Ceph's EBLOCKLISTED).
constexpr int err_blocklisted = -ESHUTDOWN;

struct lease_holder {
    std::string client;  // e.g. client.4120
    std::string cookie;  // the holder's gateway_id
    std::string addr;    // its RADOS client address
};

class rados_lease {
public:
    // The lease lock_name on object oid in pool, taken as cookie (unique
    // per gateway).
    static result<rados_lease> open(rados_t cluster, const std::string& pool,
                                    const std::string& oid, std::string lock_name,
                                    std::string cookie, std::chrono::milliseconds duration);
    rados_lease(rados_lease&& o) noexcept;
    rados_lease& operator=(rados_lease&&) = delete;
    rados_lease(const rados_lease&) = delete;
    ~rados_lease();

    // Takes the lease when nobody holds it and records my_addr (unless
    // empty) as its owner. -EBUSY when another client holds it.
    result<void> acquire(const std::string& my_addr);
    // Extends a lease this client holds. -ENOENT when it ran out (or was
    // broken), err_blocklisted when this client has been fenced.
    result<void> renew();
    // Gives it up; owner_addr stays, so the next holder still fences us.
    void release();
    // The current holder, if any (an expired lock has none).
    result<std::optional<lease_holder>> holder() const;
    // The address the last holder recorded (empty: none yet).
    result<std::string> last_owner() const;

    const std::string& oid() const { return oid_; }

private:
    rados_lease() = default;
    rados_ioctx_t io_ = nullptr;
    std::string oid_;
    std::string lock_name_;
    std::string cookie_;
    std::chrono::milliseconds duration_{0};
};

// This client's address, as other clients' blocklist entries name it.
result<std::string> client_address(rados_t cluster);
// Blocklists addr for expire_s seconds and waits for the OSD map that has
// it, so every OSD we talk to from here on refuses addr's operations.
result<void> fence(rados_t cluster, const std::string& addr, uint32_t expire_s);

}  // namespace nvmf::ha
