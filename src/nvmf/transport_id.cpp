#include "nvmf/transport_id.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

#include "nvme/spec/fabrics.hpp"

namespace nvmf {

namespace {
std::string upper(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
    return s;
}
}  // namespace

result<transport_id> normalize_trid(transport_id t) {
    t.trtype = upper(t.trtype);
    if (t.trtype != "TCP" && t.trtype != "RDMA" && t.trtype != "FC" && t.trtype != "LOOP") {
        return make_error(-EINVAL, "unknown trtype '" + t.trtype + "'");
    }
    if (t.trtype == "LOOP") {
        // An in-process address: a name, no family, no service ID.
        if (!t.adrfam.empty() && upper(t.adrfam) != "LOOP") {
            return make_error(-EINVAL, "adrfam of a LOOP address must be LOOP or absent");
        }
        t.adrfam = "LOOP";
        if (t.traddr.empty()) return make_error(-EINVAL, "traddr is required");
        return t;
    }
    const std::string af = upper(t.adrfam.empty() ? "IPV4" : t.adrfam);
    if (af == "IPV4") {
        t.adrfam = "IPv4";
    } else if (af == "IPV6") {
        t.adrfam = "IPv6";
    } else if (af == "IB" || af == "FC") {
        t.adrfam = af;
    } else {
        return make_error(-EINVAL, "unknown adrfam '" + t.adrfam + "'");
    }
    if (t.traddr.empty()) return make_error(-EINVAL, "traddr is required");
    if (t.trtype != "FC") {
        unsigned char buf[16];
        const int fam = t.adrfam == "IPv6" ? AF_INET6 : AF_INET;
        if ((t.adrfam == "IPv4" || t.adrfam == "IPv6") &&
            inet_pton(fam, t.traddr.c_str(), buf) != 1) {
            return make_error(-EINVAL,
                              "traddr '" + t.traddr + "' is not an " + t.adrfam + " address");
        }
        if (t.trsvcid.empty()) return make_error(-EINVAL, "trsvcid is required");
        char* end = nullptr;
        const long port = std::strtol(t.trsvcid.c_str(), &end, 10);
        if (*end != '\0' || port <= 0 || port > 65535) {
            return make_error(-EINVAL, "trsvcid '" + t.trsvcid + "' is not a port number");
        }
    }
    return t;
}

uint8_t trtype_code(const std::string& trtype) {
    if (trtype == "RDMA") return spec::trtype::rdma;
    if (trtype == "FC") return spec::trtype::fc;
    if (trtype == "LOOP") return spec::trtype::intra_host;
    return spec::trtype::tcp;
}

uint8_t adrfam_code(const std::string& adrfam) {
    if (adrfam == "IPv6") return spec::adrfam::ipv6;
    if (adrfam == "IB") return spec::adrfam::ib;
    if (adrfam == "FC") return spec::adrfam::fc;
    if (adrfam == "LOOP") return spec::adrfam::intra_host;
    return spec::adrfam::ipv4;
}

}  // namespace nvmf
