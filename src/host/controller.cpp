#include "host/controller.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>

#include "nvme/spec/auth.hpp"

namespace nvmf::host {

namespace {

std::string uuid_string(const std::array<uint8_t, 16>& u) {
    char s[40];
    std::snprintf(s, sizeof(s),
                  "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0],
                  u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
                  u[14], u[15]);
    return s;
}

std::span<const uint8_t> bytes_of(const void* p, size_t n) {
    return {static_cast<const uint8_t*>(p), n};
}

}  // namespace

std::string status_string(spec::status s) {
    char b[64];
    std::snprintf(b, sizeof(b), "SCT 0x%x SC 0x%02x%s", static_cast<unsigned>(spec::status_sct(s)),
                  spec::status_sc(s), spec::status_dnr(s) ? " DNR" : "");
    return b;
}

error status_error(const char* what, const completion& c) {
    return make_error(c.status(), std::string(what) + " failed: " + status_string(c.status()));
}

result<completion> fabrics_connect(queue& q, uint16_t qid, uint16_t sqsize, uint32_t kato_ms,
                                   std::span<const uint8_t, 16> hostid, uint16_t cntlid,
                                   const std::string& hostnqn, const std::string& subnqn,
                                   uint8_t cattr) {
    const spec::connect_data d = cmd::connect_data(hostid, cntlid, hostnqn, subnqn);
    return q.execute(cmd::connect(qid, sqsize, kato_ms, cattr), bytes_of(&d, sizeof(d)));
}

controller::controller(controller_options opts) : opts_(std::move(opts)) {
    const bool no_id =
        std::all_of(opts_.hostid.begin(), opts_.hostid.end(), [](uint8_t b) { return b == 0; });
    if (no_id) {
        std::random_device rd;
        for (auto& b : opts_.hostid) b = static_cast<uint8_t>(rd());
        opts_.hostid[6] = static_cast<uint8_t>((opts_.hostid[6] & 0x0f) | 0x40);  // UUID v4
        opts_.hostid[8] = static_cast<uint8_t>((opts_.hostid[8] & 0x3f) | 0x80);
    }
    if (opts_.hostnqn.empty() && !opts_.empty_hostnqn) {
        opts_.hostnqn = "nqn.2014-08.org.nvmexpress:uuid:" + uuid_string(opts_.hostid);
    }
    if (!opts_.psk.empty()) {
        // The identity and TLS PSK are the same for every queue: derive once.
        auto psk = keyring::parse_interchange(opts_.psk);
        auto creds = psk ? keyring::host_credentials(*psk, opts_.hostnqn, opts_.subnqn,
                                                     opts_.psk_identity_version)
                         : result<keyring::tls_credentials>(psk.err());
        if (creds) {
            auto t = std::make_shared<tls_options>();
            t->creds = std::move(*creds);
            t->ktls = opts_.ktls;
            tls_ = std::move(t);
        } else {
            tls_error_ = creds.err();
        }
    }
}

result<std::unique_ptr<controller>> controller::create(const controller_options& opts) {
    auto c = std::make_unique<controller>(opts);
    if (auto r = c->connect_admin(); !r) return r.err();
    if (auto r = c->enable(); !r) return r.err();
    if (auto r = c->identify_controller(); !r) return r.err();
    if (opts.subnqn != spec::discovery_nqn && opts.num_io_queues > 0) {
        // Ask for the queues first, as hosts do; a target without the feature still connects.
        const uint32_t n = opts.num_io_queues - 1;
        if (auto r = c->set_features(spec::feat::number_of_queues, n | (n << 16)); !r) {
            return r.err();
        }
        if (auto r = c->add_io_queues(opts.num_io_queues); !r) return r.err();
    }
    return c;
}

result<std::unique_ptr<queue>> controller::open_queue(uint16_t depth, uint32_t icd_size) const {
    queue_options qo;
    qo.hdgst = opts_.hdgst;
    qo.ddgst = opts_.ddgst;
    qo.maxr2t = opts_.maxr2t;
    qo.icd_size = icd_size;
    qo.depth = depth;
    qo.timeout_ms = opts_.timeout_ms;
    if (!opts_.psk.empty() && !tls_) return tls_error_;
    qo.tls = tls_;
    auto q = std::make_unique<queue>(qo);
    if (auto r = q->open(opts_.traddr, opts_.trsvcid); !r) return r.err();
    return q;
}

void controller::set_tls_credentials(keyring::tls_credentials creds) {
    auto t = std::make_shared<tls_options>();
    t->creds = std::move(creds);
    t->ktls = opts_.ktls;
    tls_ = std::move(t);
}

result<auth_outcome> controller::generate_tls_psk() {
    if (!opts_.psk.empty()) return make_error(-EINVAL, "--concat and --psk exclude each other");
    if (!opts_.auth.key) {
        return make_error(-EINVAL, "secure channel concatenation needs a DH-HMAC-CHAP key");
    }
    // Plain TCP, whatever TLS this controller already had.
    auto saved = std::move(tls_);
    tls_.reset();
    auto q = open_queue(opts_.admin_queue_size, opts_.admin_icd_size);
    tls_ = std::move(saved);
    if (!q) return q.err();
    auto c = fabrics_connect(**q, 0, static_cast<uint16_t>(opts_.admin_queue_size - 1),
                             opts_.kato_ms, opts_.hostid, spec::cntlid_dynamic, opts_.hostnqn,
                             opts_.subnqn, opts_.disable_sqflow ? cattr_disable_sqflow : 0);
    if (!c) return c.err();
    if (!c->ok()) return status_error("admin Connect (plain, for concatenation)", *c);
    if ((c->cqe.cdw0 & (spec::authreq::atr | spec::authreq::ascr)) == 0) {
        return make_error(-EACCES,
                          "the controller does not ask for DH-HMAC-CHAP on this connection: "
                          "no secure channel concatenation");
    }
    auto a = host::authenticate(**q, opts_.auth, opts_.hostnqn, opts_.subnqn, next_tid_++,
                                spec::auth_scc::new_tls_psk);
    // Only Connect and the authentication go over this connection (NVMe
    // Base 2.1): the rest waits for TLS.
    (*q)->close();
    if (!a) return a.err();
    set_tls_credentials(std::move(*a->generated));
    a->generated.reset();
    return a;
}

result<auth_outcome> controller::replace_tls_psk() {
    if (!admin_) return make_error(-ENOTCONN, "no admin queue");
    if (!tls_) return make_error(-EINVAL, "REPLACETLSPSK needs a TLS admin queue");
    auto a = authenticate(*admin_, spec::auth_scc::replace_tls_psk);
    if (!a) return a.err();
    set_tls_credentials(std::move(*a->generated));
    a->generated.reset();
    return a;
}

result<void> controller::connect_admin() {
    if (opts_.concat && !tls_) {
        auto g = generate_tls_psk();
        if (!g) return g.err();
        admin_auth_ = std::move(*g);
    }
    auto q = open_queue(opts_.admin_queue_size, opts_.admin_icd_size);
    if (!q) return q.err();
    admin_ = std::move(*q);
    auto c = fabrics_connect(*admin_, 0, static_cast<uint16_t>(opts_.admin_queue_size - 1),
                             opts_.kato_ms, opts_.hostid, spec::cntlid_dynamic, opts_.hostnqn,
                             opts_.subnqn, opts_.disable_sqflow ? cattr_disable_sqflow : 0);
    if (!c) return c.err();
    if (!c->ok()) return status_error("admin Connect", *c);
    cntlid_ = static_cast<uint16_t>(c->cqe.cdw0 & 0xffff);
    return after_connect(*admin_, *c, &admin_auth_);
}

result<completion> controller::connect_io(queue& q, uint16_t qid, uint16_t sqsize) {
    auto c = fabrics_connect(q, qid, sqsize, 0, opts_.hostid, cntlid_, opts_.hostnqn, opts_.subnqn,
                             opts_.disable_sqflow ? cattr_disable_sqflow : 0);
    if (!c || !c->ok()) return c;
    if (auto r = after_connect(q, *c, nullptr); !r) return r.err();
    return c;
}

result<void> controller::after_connect(queue& q, const completion& c,
                                       std::optional<auth_outcome>* out) {
    if ((c.cqe.cdw0 & (spec::authreq::atr | spec::authreq::ascr)) == 0 || opts_.skip_auth) {
        return {};
    }
    if (!opts_.auth.key) {
        return make_error(-EACCES,
                          "the controller requires DH-HMAC-CHAP authentication (ATR) and no "
                          "host key was given");
    }
    if ((c.cqe.cdw0 & spec::authreq::ascr) != 0 && !opts_.concat) {
        // As the Linux host without --concat (and SPDK's host).
        return make_error(-EOPNOTSUPP,
                          "the controller requires secure channel concatenation (ASCR): use "
                          "concat");
    }
    // A concatenating host asked to authenticate its TLS admin queue does it
    // as the Linux host does: REPLACETLSPSK, and uses the new PSK from now on.
    const bool replace = opts_.concat && out != nullptr && tls_ != nullptr;
    auto a = authenticate(q, replace ? spec::auth_scc::replace_tls_psk : spec::auth_scc::none);
    if (!a) return a.err();
    if (a->generated) {
        set_tls_credentials(std::move(*a->generated));
        a->generated.reset();
    }
    if (out) *out = std::move(*a);
    return {};
}

result<auth_outcome> controller::authenticate(queue& q, uint8_t sc_c) {
    return host::authenticate(q, opts_.auth, opts_.hostnqn, opts_.subnqn, next_tid_++, sc_c);
}

result<void> controller::enable() {
    auto cap = get_property(spec::prop::cap);
    if (!cap) return cap.err();
    cap_ = *cap;
    const uint32_t cc =
        spec::cc::en | (6u << spec::cc::iosqes_shift) | (4u << spec::cc::iocqes_shift);
    auto s = property_set(spec::prop::cc, cc);
    if (!s) return s.err();
    if (!s->ok()) return status_error("Property Set CC", *s);
    // CAP.TO is in 500 ms units.
    const int64_t to_ms = std::max<int64_t>(((cap_ >> 24) & 0xff) * 500, 1000);
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(to_ms);
    for (;;) {
        auto csts = get_property(spec::prop::csts);
        if (!csts) return csts.err();
        if (*csts & spec::csts::cfs) return make_error(-EIO, "CSTS.CFS set while enabling");
        if (*csts & spec::csts::rdy) return {};
        if (std::chrono::steady_clock::now() > end) {
            return make_error(-ETIMEDOUT, "CSTS.RDY not set within CAP.TO");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

result<void> controller::shutdown() {
    auto cc = get_property(spec::prop::cc);
    if (!cc) return cc.err();
    const uint64_t v = (*cc & ~uint64_t{spec::cc::shn_mask}) | (1u << spec::cc::shn_shift);
    auto s = property_set(spec::prop::cc, v);
    if (!s) return s.err();
    if (!s->ok()) return status_error("Property Set CC.SHN", *s);
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(opts_.timeout_ms);
    for (;;) {
        auto csts = get_property(spec::prop::csts);
        if (!csts) return csts.err();
        const uint32_t shst = (*csts & spec::csts::shst_mask) >> spec::csts::shst_shift;
        if (shst == spec::csts::shst_complete) return {};
        if (std::chrono::steady_clock::now() > end) {
            return make_error(-ETIMEDOUT, "CSTS.SHST did not reach complete");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

void controller::disconnect() {
    io_.clear();
    if (admin_) admin_->close();
}

result<void> controller::identify_controller() {
    auto d = identify_ctrlr();
    if (!d) return d.err();
    id_ = std::make_unique<spec::identify_ctrlr>(*d);
    return {};
}

uint32_t controller::max_transfer() const {
    if (!id_ || id_->mdts == 0) return 0;
    const uint32_t mpsmin = static_cast<uint32_t>((cap_ >> 48) & 0xf);
    const uint64_t bytes = (uint64_t{4096} << mpsmin) << id_->mdts;
    return static_cast<uint32_t>(std::min<uint64_t>(bytes, 1u << 31));
}

uint32_t controller::io_icd_size() const {
    if (opts_.io_icd_size != 0) return opts_.io_icd_size;
    if (id_ && id_->ioccsz * 16u > sizeof(spec::sqe)) return id_->ioccsz * 16u - sizeof(spec::sqe);
    return 0;
}

result<void> controller::add_io_queues(uint32_t n) {
    for (uint32_t i = 0; i < n; ++i) {
        auto q = open_queue(opts_.io_queue_size, io_icd_size());
        if (!q) return q.err();
        const auto qid = static_cast<uint16_t>(io_.size() + 1);
        auto c = connect_io(**q, qid, static_cast<uint16_t>(opts_.io_queue_size - 1));
        if (!c) return c.err();
        if (!c->ok()) return status_error("I/O queue Connect", *c);
        io_.push_back(std::move(*q));
    }
    return {};
}

result<completion> controller::admin_cmd(const spec::sqe& c, std::span<const uint8_t> out,
                                         std::span<uint8_t> in) {
    if (!admin_) return make_error(-ENOTCONN, "admin queue not connected");
    return admin_->execute(c, out, in);
}

result<completion> controller::property_get(uint32_t ofst, bool eight_bytes) {
    return admin_cmd(cmd::property_get(ofst, eight_bytes));
}

result<completion> controller::property_set(uint32_t ofst, uint64_t value, bool eight_bytes) {
    return admin_cmd(cmd::property_set(ofst, value, eight_bytes));
}

result<uint64_t> controller::get_property(uint32_t ofst) {
    const bool eight = ofst == spec::prop::cap;
    auto c = property_get(ofst, eight);
    if (!c) return c.err();
    if (!c->ok()) return status_error("Property Get", *c);
    return eight ? c->value64() : c->cqe.cdw0;
}

result<completion> controller::identify(uint8_t cns, uint32_t nsid, std::span<uint8_t> out,
                                        uint16_t cntid) {
    return admin_cmd(cmd::identify(cns, nsid, cntid), {}, out);
}

result<spec::identify_ctrlr> controller::identify_ctrlr() {
    auto d = std::make_unique<spec::identify_ctrlr>();
    auto c = identify(spec::cns::ctrlr, 0, {reinterpret_cast<uint8_t*>(d.get()), sizeof(*d)});
    if (!c) return c.err();
    if (!c->ok()) return status_error("Identify Controller", *c);
    return *d;
}

result<spec::identify_ns> controller::identify_ns(uint32_t nsid) {
    auto d = std::make_unique<spec::identify_ns>();
    auto c = identify(spec::cns::ns, nsid, {reinterpret_cast<uint8_t*>(d.get()), sizeof(*d)});
    if (!c) return c.err();
    if (!c->ok()) return status_error("Identify Namespace", *c);
    return *d;
}

result<std::vector<uint32_t>> controller::active_ns_list(uint32_t start_nsid) {
    auto d = std::make_unique<spec::ns_list>();
    auto c = identify(spec::cns::active_ns_list, start_nsid,
                      {reinterpret_cast<uint8_t*>(d.get()), sizeof(*d)});
    if (!c) return c.err();
    if (!c->ok()) return status_error("Identify Active Namespace List", *c);
    std::vector<uint32_t> v;
    for (uint32_t id : d->nsid) {
        if (id == 0) break;
        v.push_back(id);
    }
    return v;
}

result<completion> controller::get_log_page(uint8_t lid, uint32_t nsid, std::span<uint8_t> out,
                                            uint64_t offset, uint8_t lsp, bool rae) {
    return admin_cmd(
        cmd::get_log_page(lid, nsid, static_cast<uint32_t>(out.size()), offset, lsp, rae), {}, out);
}

result<completion> controller::get_features(uint8_t fid, uint32_t nsid, uint32_t cdw11,
                                            uint8_t sel) {
    return admin_cmd(cmd::get_features(fid, nsid, sel, cdw11));
}

result<completion> controller::set_features(uint8_t fid, uint32_t cdw11, uint32_t nsid,
                                            uint32_t cdw12) {
    return admin_cmd(cmd::set_features(fid, cdw11, nsid, false, cdw12));
}

result<completion> controller::keep_alive() { return admin_cmd(cmd::keep_alive()); }

result<uint16_t> controller::submit_aer() {
    if (!admin_) return make_error(-ENOTCONN, "admin queue not connected");
    return admin_->submit(cmd::async_event_request());
}

result<completion> controller::read(uint32_t nsid, uint64_t slba, uint32_t nlb,
                                    std::span<uint8_t> buf, size_t qi) {
    if (qi >= io_.size()) return make_error(-EINVAL, "no I/O queue " + std::to_string(qi));
    return io_[qi]->execute(cmd::read(nsid, slba, nlb), {}, buf);
}

result<completion> controller::write(uint32_t nsid, uint64_t slba, uint32_t nlb,
                                     std::span<const uint8_t> buf, size_t qi) {
    if (qi >= io_.size()) return make_error(-EINVAL, "no I/O queue " + std::to_string(qi));
    return io_[qi]->execute(cmd::write(nsid, slba, nlb), buf);
}

result<completion> controller::compare(uint32_t nsid, uint64_t slba, uint32_t nlb,
                                       std::span<const uint8_t> buf, size_t qi) {
    if (qi >= io_.size()) return make_error(-EINVAL, "no I/O queue " + std::to_string(qi));
    return io_[qi]->execute(cmd::compare(nsid, slba, nlb), buf);
}

result<completion> controller::flush(uint32_t nsid, size_t qi) {
    if (qi >= io_.size()) return make_error(-EINVAL, "no I/O queue " + std::to_string(qi));
    return io_[qi]->execute(cmd::flush(nsid));
}

result<completion> controller::write_zeroes(uint32_t nsid, uint64_t slba, uint32_t nlb, bool deac,
                                            size_t qi) {
    if (qi >= io_.size()) return make_error(-EINVAL, "no I/O queue " + std::to_string(qi));
    return io_[qi]->execute(cmd::write_zeroes(nsid, slba, nlb, deac));
}

result<completion> controller::deallocate(uint32_t nsid, std::span<const cmd::dsm_range> ranges,
                                          size_t qi) {
    if (qi >= io_.size()) return make_error(-EINVAL, "no I/O queue " + std::to_string(qi));
    return io_[qi]->execute(
        cmd::dataset_management(nsid, static_cast<uint32_t>(ranges.size()), cmd::dsm_deallocate),
        bytes_of(ranges.data(), ranges.size_bytes()));
}

result<completion> controller::resv_register(uint32_t nsid, uint8_t rrega, uint64_t crkey,
                                             uint64_t nrkey, bool iekey, uint8_t cptpl, size_t qi) {
    if (qi >= io_.size()) return make_error(-EINVAL, "no I/O queue " + std::to_string(qi));
    const uint64_t data[2] = {crkey, nrkey};
    return io_[qi]->execute(cmd::resv_register(nsid, rrega, iekey, cptpl),
                            bytes_of(data, sizeof(data)));
}

result<completion> controller::resv_acquire(uint32_t nsid, uint8_t racqa, uint8_t rtype,
                                            uint64_t crkey, uint64_t prkey, bool iekey, size_t qi) {
    if (qi >= io_.size()) return make_error(-EINVAL, "no I/O queue " + std::to_string(qi));
    const uint64_t data[2] = {crkey, prkey};
    return io_[qi]->execute(cmd::resv_acquire(nsid, racqa, iekey, rtype),
                            bytes_of(data, sizeof(data)));
}

result<completion> controller::resv_release(uint32_t nsid, uint8_t rrela, uint8_t rtype,
                                            uint64_t crkey, bool iekey, size_t qi) {
    if (qi >= io_.size()) return make_error(-EINVAL, "no I/O queue " + std::to_string(qi));
    const uint64_t data[1] = {crkey};
    return io_[qi]->execute(cmd::resv_release(nsid, rrela, iekey, rtype),
                            bytes_of(data, sizeof(data)));
}

result<completion> controller::resv_report(uint32_t nsid, std::span<uint8_t> out, bool eds,
                                           size_t qi) {
    if (qi >= io_.size()) return make_error(-EINVAL, "no I/O queue " + std::to_string(qi));
    return io_[qi]->execute(cmd::resv_report(nsid, static_cast<uint32_t>(out.size()), eds), {},
                            out);
}

}  // namespace nvmf::host
