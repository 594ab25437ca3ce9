#include "host/discovery.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>
#include <sstream>

namespace nvmf::host {

result<discovery_log> get_discovery_log(controller& c, int retries) {
    auto hdr = std::make_unique<spec::discovery_log_header>();
    std::span<uint8_t> hdr_bytes{reinterpret_cast<uint8_t*>(hdr.get()), sizeof(*hdr)};
    for (int attempt = 0; attempt <= retries; ++attempt) {
        auto r = c.get_log_page(spec::lid::discovery, 0, hdr_bytes);
        if (!r) return r.err();
        if (!r->ok()) return status_error("Get Log Page (discovery header)", *r);
        discovery_log log;
        log.genctr = hdr->genctr;
        log.recfmt = hdr->recfmt;
        if (hdr->numrec > 4096) {
            return make_error(-EPROTO, "discovery log NUMREC " + std::to_string(hdr->numrec));
        }
        log.entries.resize(hdr->numrec);
        if (!log.entries.empty()) {
            std::span<uint8_t> ent{reinterpret_cast<uint8_t*>(log.entries.data()),
                                   log.entries.size() * sizeof(spec::discovery_log_entry)};
            auto e = c.get_log_page(spec::lid::discovery, 0, ent, sizeof(*hdr));
            if (!e) return e.err();
            if (!e->ok()) return status_error("Get Log Page (discovery entries)", *e);
        }
        auto again = c.get_log_page(spec::lid::discovery, 0, hdr_bytes);
        if (!again) return again.err();
        if (!again->ok()) return status_error("Get Log Page (discovery header)", *again);
        if (hdr->genctr == log.genctr) return log;
    }
    return make_error(-EAGAIN, "discovery log kept changing (GENCTR)");
}

const char* trtype_name(uint8_t t) {
    switch (t) {
    case spec::trtype::rdma:
        return "rdma";
    case spec::trtype::fc:
        return "fc";
    case spec::trtype::tcp:
        return "tcp";
    case spec::trtype::intra_host:
        return "loop";
    default:
        return "unrecognized";
    }
}

const char* adrfam_name(uint8_t a) {
    switch (a) {
    case spec::adrfam::ipv4:
        return "ipv4";
    case spec::adrfam::ipv6:
        return "ipv6";
    case spec::adrfam::ib:
        return "infiniband";
    case spec::adrfam::fc:
        return "fibre-channel";
    case spec::adrfam::intra_host:
        return "intra-host";
    default:
        return "unrecognized";
    }
}

const char* subtype_name(uint8_t s) {
    switch (s) {
    case spec::subtype::discovery_referral:
        return "discovery subsystem referral";
    case spec::subtype::nvme:
        return "nvme subsystem";
    case spec::subtype::discovery_current:
        return "current discovery subsystem";
    default:
        return "unrecognized";
    }
}

std::string treq_string(uint8_t treq) {
    std::string s;
    switch (treq & 0x3) {
    case spec::treq::secure_channel_not_specified:
        s = "not specified";
        break;
    case spec::treq::secure_channel_required:
        s = "required";
        break;
    case spec::treq::secure_channel_not_required:
        s = "not required";
        break;
    default:
        s = "reserved";
        break;
    }
    if (treq & spec::treq::sq_flow_control_disable_supported)
        s += ", sq flow control disable supported";
    return s;
}

std::string field_string(const char* p, size_t n) {
    size_t len = strnlen(p, n);
    while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\0')) --len;
    return {p, len};
}

result<trid_string> parse_trid(const std::string& s) {
    trid_string t;
    std::istringstream in(s);
    std::string tok;
    while (in >> tok) {
        const auto colon = tok.find(':');
        if (colon == std::string::npos)
            return make_error(-EINVAL, "bad transport ID field '" + tok + "'");
        std::string key = tok.substr(0, colon);
        std::transform(key.begin(), key.end(), key.begin(),
                       [](unsigned char c) { return std::tolower(c); });
        const std::string val = tok.substr(colon + 1);
        if (key == "trtype") {
            t.trtype = val;
        } else if (key == "adrfam") {
            t.adrfam = val;
        } else if (key == "traddr") {
            t.traddr = val;
        } else if (key == "trsvcid") {
            t.trsvcid = val;
        } else if (key == "subnqn") {
            t.subnqn = val;
        } else if (key == "hostnqn") {
            t.hostnqn = val;
        } else {
            return make_error(-EINVAL, "unknown transport ID key '" + key + "'");
        }
    }
    std::string tt = t.trtype;
    std::transform(tt.begin(), tt.end(), tt.begin(),
                   [](unsigned char c) { return std::toupper(c); });
    if (tt != "TCP") return make_error(-EINVAL, "only trtype TCP is supported, not " + t.trtype);
    t.trtype = tt;
    return t;
}

}  // namespace nvmf::host
