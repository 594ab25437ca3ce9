// DH-HMAC-CHAP message parsers and builders.
#include "auth/messages.hpp"

#include <cstring>
#include <string>

#include "auth/dhchap_crypto.hpp"

namespace nvmf::auth {

namespace {

namespace rce = spec::auth_rce;

error refuse(uint8_t reason, std::string why) { return make_error(reason, std::move(why)); }

template <typename T>
T load(std::span<const uint8_t> msg) {
    T v;
    std::memcpy(&v, msg.data(), sizeof(T));
    return v;
}

template <typename T>
void store(std::vector<uint8_t>& out, const T& v) {
    std::memcpy(out.data(), &v, sizeof(T));
}

// A message of the kind expected: AUTH_Type and AUTH_Id as given.
result<void> expect_kind(std::span<const uint8_t> msg, size_t min, uint8_t type, uint8_t id,
                         const char* name) {
    if (msg.size() < sizeof(spec::auth_header)) {
        return refuse(rce::incorrect_payload, std::string(name) + ": message too short");
    }
    const auto h = load<spec::auth_header>(msg);
    if (h.auth_type != type || h.auth_id != id) {
        return refuse(rce::incorrect_protocol_message,
                      std::string("expected ") + name + ", got type " +
                          std::to_string(h.auth_type) + " id " + std::to_string(h.auth_id));
    }
    if (msg.size() < min) {
        return refuse(rce::incorrect_payload, std::string(name) + ": " +
                                                  std::to_string(msg.size()) + " bytes, at least " +
                                                  std::to_string(min) + " needed");
    }
    return {};
}

}  // namespace

std::optional<spec::auth_header> peek_header(std::span<const uint8_t> msg) {
    if (msg.size() < sizeof(spec::auth_header)) return std::nullopt;
    return load<spec::auth_header>(msg);
}

result<negotiate_view> parse_negotiate(std::span<const uint8_t> msg) {
    if (auto r = expect_kind(msg, sizeof(spec::auth_negotiate), spec::auth_type::common,
                             spec::auth_id::negotiate, "AUTH_Negotiate");
        !r) {
        return r.err();
    }
    const auto n = load<spec::auth_negotiate>(msg);
    negotiate_view v;
    v.t_id = n.t_id;
    v.sc_c = n.sc_c;
    if (n.napd == 0 || msg.size() != sizeof(n) + size_t{n.napd} * sizeof(spec::auth_descriptor)) {
        return refuse(rce::incorrect_payload, "AUTH_Negotiate: " + std::to_string(msg.size()) +
                                                  " bytes for NAPD " + std::to_string(n.napd));
    }
    bool found = false;
    for (size_t i = 0; i < n.napd; ++i) {
        const auto d =
            load<spec::auth_descriptor>(msg.subspan(sizeof(n) + i * sizeof(spec::auth_descriptor)));
        if (d.authid != spec::auth_protocol_dhchap) continue;
        if (d.halen > sizeof(d.hash_id_list) || d.dhlen > sizeof(d.dhg_id_list)) {
            return refuse(rce::incorrect_payload, "AUTH_Negotiate: HALEN " +
                                                      std::to_string(d.halen) + " DHLEN " +
                                                      std::to_string(d.dhlen) + " (30 at most)");
        }
        for (size_t j = 0; j < d.halen; ++j) {
            if (d.hash_id_list[j] < 32) v.hashes |= 1u << d.hash_id_list[j];
        }
        for (size_t j = 0; j < d.dhlen; ++j) {
            if (d.dhg_id_list[j] < 32) v.dhgroups |= 1u << d.dhg_id_list[j];
        }
        found = true;
        break;
    }
    if (!found) {
        return refuse(rce::protocol_unusable, "AUTH_Negotiate offers no DH-HMAC-CHAP descriptor");
    }
    return v;
}

result<reply_view> parse_reply(std::span<const uint8_t> msg, size_t hl) {
    if (auto r = expect_kind(msg, sizeof(spec::dhchap_reply), spec::auth_type::dhchap,
                             spec::auth_id::dhchap_reply, "DH-HMAC-CHAP_Reply");
        !r) {
        return r.err();
    }
    const auto m = load<spec::dhchap_reply>(msg);
    if (m.hl != hl) {
        return refuse(rce::incorrect_payload, "DH-HMAC-CHAP_Reply: HL " + std::to_string(m.hl) +
                                                  ", the negotiated hash has " +
                                                  std::to_string(hl));
    }
    const size_t want = sizeof(m) + 2 * hl + m.dhvlen;
    if (msg.size() != want) {
        return refuse(rce::incorrect_payload, "DH-HMAC-CHAP_Reply: " + std::to_string(msg.size()) +
                                                  " bytes, HL and " + "DHVLEN make " +
                                                  std::to_string(want));
    }
    if (m.cvalid > 1) {
        return refuse(rce::incorrect_payload,
                      "DH-HMAC-CHAP_Reply: CVALID " + std::to_string(m.cvalid));
    }
    // CVALID with SEQNUM 0 is C2 for secure channel concatenation alone: the
    // session knows whether that was asked for (target_session::on_reply).
    reply_view v;
    v.t_id = m.t_id;
    v.cvalid = m.cvalid != 0;
    v.seqnum = m.seqnum;
    v.rval = msg.subspan(sizeof(m), hl);
    v.cval = msg.subspan(sizeof(m) + hl, hl);
    v.dhv = msg.subspan(sizeof(m) + 2 * hl, m.dhvlen);
    return v;
}

result<uint16_t> parse_success2(std::span<const uint8_t> msg) {
    if (auto r = expect_kind(msg, sizeof(spec::dhchap_success2), spec::auth_type::dhchap,
                             spec::auth_id::dhchap_success2, "DH-HMAC-CHAP_Success2");
        !r) {
        return r.err();
    }
    if (msg.size() != sizeof(spec::dhchap_success2)) {
        return refuse(rce::incorrect_payload,
                      "DH-HMAC-CHAP_Success2: " + std::to_string(msg.size()) + " bytes, not 16");
    }
    return load<spec::dhchap_success2>(msg).t_id;
}

result<failure_view> parse_failure2(std::span<const uint8_t> msg) {
    if (auto r = expect_kind(msg, sizeof(spec::auth_failure), spec::auth_type::common,
                             spec::auth_id::failure2, "AUTH_Failure2");
        !r) {
        return r.err();
    }
    if (msg.size() != sizeof(spec::auth_failure)) {
        return refuse(rce::incorrect_payload,
                      "AUTH_Failure2: " + std::to_string(msg.size()) + " bytes, not 8");
    }
    const auto f = load<spec::auth_failure>(msg);
    return failure_view{f.t_id, f.rc, f.rce};
}

result<challenge_view> parse_challenge(std::span<const uint8_t> msg) {
    if (auto r = expect_kind(msg, sizeof(spec::dhchap_challenge), spec::auth_type::dhchap,
                             spec::auth_id::dhchap_challenge, "DH-HMAC-CHAP_Challenge");
        !r) {
        return r.err();
    }
    const auto c = load<spec::dhchap_challenge>(msg);
    const size_t hl = hash_len(c.hashid);
    if (hl == 0) {
        return refuse(rce::hash_unusable,
                      "DH-HMAC-CHAP_Challenge: unknown HASHID " + std::to_string(c.hashid));
    }
    if (c.hl != hl) {
        return refuse(rce::incorrect_payload, "DH-HMAC-CHAP_Challenge: HL " + std::to_string(c.hl) +
                                                  " for HASHID " + std::to_string(c.hashid));
    }
    if (dhgroup_name(c.dhgid) == nullptr) {
        return refuse(rce::dhgroup_unusable,
                      "DH-HMAC-CHAP_Challenge: unknown DHGID " + std::to_string(c.dhgid));
    }
    if (c.dhvlen != dhgroup_len(c.dhgid)) {
        return refuse(rce::incorrect_payload, "DH-HMAC-CHAP_Challenge: DHVLEN " +
                                                  std::to_string(c.dhvlen) + " for DHGID " +
                                                  std::to_string(c.dhgid));
    }
    if (c.seqnum == 0) {
        return refuse(rce::incorrect_payload, "DH-HMAC-CHAP_Challenge: SEQNUM 0");
    }
    if (msg.size() < sizeof(c) + hl + c.dhvlen) {
        return refuse(rce::incorrect_payload, "DH-HMAC-CHAP_Challenge: truncated");
    }
    challenge_view v;
    v.t_id = c.t_id;
    v.hash = c.hashid;
    v.dhgroup = c.dhgid;
    v.seqnum = c.seqnum;
    v.cval = msg.subspan(sizeof(c), hl);
    v.dhv = msg.subspan(sizeof(c) + hl, c.dhvlen);
    return v;
}

result<success1_view> parse_success1(std::span<const uint8_t> msg) {
    if (auto r = expect_kind(msg, sizeof(spec::dhchap_success1), spec::auth_type::dhchap,
                             spec::auth_id::dhchap_success1, "DH-HMAC-CHAP_Success1");
        !r) {
        return r.err();
    }
    const auto s = load<spec::dhchap_success1>(msg);
    if (s.rvalid > 1) {
        return refuse(rce::incorrect_payload,
                      "DH-HMAC-CHAP_Success1: RVALID " + std::to_string(s.rvalid));
    }
    success1_view v;
    v.t_id = s.t_id;
    v.hl = s.hl;
    v.rvalid = s.rvalid != 0;
    if (v.rvalid) {
        if (msg.size() < sizeof(s) + s.hl) {
            return refuse(rce::incorrect_payload, "DH-HMAC-CHAP_Success1: truncated");
        }
        v.rval = msg.subspan(sizeof(s), s.hl);
    }
    return v;
}

result<failure_view> parse_failure1(std::span<const uint8_t> msg) {
    if (auto r = expect_kind(msg, sizeof(spec::auth_failure), spec::auth_type::common,
                             spec::auth_id::failure1, "AUTH_Failure1");
        !r) {
        return r.err();
    }
    const auto f = load<spec::auth_failure>(msg);
    return failure_view{f.t_id, f.rc, f.rce};
}

std::vector<uint8_t> build_negotiate(uint16_t t_id, uint8_t sc_c, std::span<const uint8_t> hashes,
                                     std::span<const uint8_t> dhgroups) {
    std::vector<uint8_t> out(sizeof(spec::auth_negotiate) + sizeof(spec::auth_descriptor));
    spec::auth_negotiate n{};
    n.auth_type = spec::auth_type::common;
    n.auth_id = spec::auth_id::negotiate;
    n.t_id = t_id;
    n.sc_c = sc_c;
    n.napd = 1;
    store(out, n);
    spec::auth_descriptor d{};
    d.authid = spec::auth_protocol_dhchap;
    for (uint8_t h : hashes) {
        if (d.halen < sizeof(d.hash_id_list)) d.hash_id_list[d.halen++] = h;
    }
    for (uint8_t g : dhgroups) {
        if (d.dhlen < sizeof(d.dhg_id_list)) d.dhg_id_list[d.dhlen++] = g;
    }
    std::memcpy(out.data() + sizeof(n), &d, sizeof(d));
    return out;
}

std::vector<uint8_t> build_challenge(uint16_t t_id, uint8_t hash, uint8_t dhgroup, uint32_t seqnum,
                                     std::span<const uint8_t> cval, std::span<const uint8_t> dhv) {
    std::vector<uint8_t> out(sizeof(spec::dhchap_challenge) + cval.size() + dhv.size());
    spec::dhchap_challenge c{};
    c.auth_type = spec::auth_type::dhchap;
    c.auth_id = spec::auth_id::dhchap_challenge;
    c.t_id = t_id;
    c.hl = static_cast<uint8_t>(cval.size());
    c.hashid = hash;
    c.dhgid = dhgroup;
    c.dhvlen = static_cast<uint16_t>(dhv.size());
    c.seqnum = seqnum;
    store(out, c);
    if (!cval.empty()) std::memcpy(out.data() + sizeof(c), cval.data(), cval.size());
    if (!dhv.empty()) std::memcpy(out.data() + sizeof(c) + cval.size(), dhv.data(), dhv.size());
    return out;
}

std::vector<uint8_t> build_reply(uint16_t t_id, std::span<const uint8_t> rval, bool cvalid,
                                 std::span<const uint8_t> cval, uint32_t seqnum,
                                 std::span<const uint8_t> dhv) {
    const size_t hl = rval.size();
    std::vector<uint8_t> out(sizeof(spec::dhchap_reply) + 2 * hl + dhv.size());
    spec::dhchap_reply r{};
    r.auth_type = spec::auth_type::dhchap;
    r.auth_id = spec::auth_id::dhchap_reply;
    r.t_id = t_id;
    r.hl = static_cast<uint8_t>(hl);
    r.cvalid = cvalid ? 1 : 0;
    r.dhvlen = static_cast<uint16_t>(dhv.size());
    r.seqnum = seqnum;
    store(out, r);
    if (hl != 0) std::memcpy(out.data() + sizeof(r), rval.data(), hl);
    if (cvalid && cval.size() == hl && hl != 0) {
        std::memcpy(out.data() + sizeof(r) + hl, cval.data(), hl);
    }
    if (!dhv.empty()) std::memcpy(out.data() + sizeof(r) + 2 * hl, dhv.data(), dhv.size());
    return out;
}

std::vector<uint8_t> build_success1(uint16_t t_id, uint8_t hl, std::span<const uint8_t> rval) {
    std::vector<uint8_t> out(sizeof(spec::dhchap_success1) + rval.size());
    spec::dhchap_success1 s{};
    s.auth_type = spec::auth_type::dhchap;
    s.auth_id = spec::auth_id::dhchap_success1;
    s.t_id = t_id;
    s.hl = hl;
    s.rvalid = rval.empty() ? 0 : 1;
    store(out, s);
    if (!rval.empty()) std::memcpy(out.data() + sizeof(s), rval.data(), rval.size());
    return out;
}

std::vector<uint8_t> build_success2(uint16_t t_id) {
    std::vector<uint8_t> out(sizeof(spec::dhchap_success2));
    spec::dhchap_success2 s{};
    s.auth_type = spec::auth_type::dhchap;
    s.auth_id = spec::auth_id::dhchap_success2;
    s.t_id = t_id;
    store(out, s);
    return out;
}

std::vector<uint8_t> build_failure(uint8_t id, uint16_t t_id, uint8_t rce) {
    std::vector<uint8_t> out(sizeof(spec::auth_failure));
    spec::auth_failure f{};
    f.auth_type = spec::auth_type::common;
    f.auth_id = id;
    f.t_id = t_id;
    f.rc = spec::auth_rc_failure;
    f.rce = rce;
    store(out, f);
    return out;
}

const char* rce_name(uint8_t r) {
    switch (r) {
    case rce::failed:
        return "authentication failed";
    case rce::protocol_unusable:
        return "protocol not usable";
    case rce::scc_mismatch:
        return "secure channel concatenation mismatch";
    case rce::hash_unusable:
        return "hash function not usable";
    case rce::dhgroup_unusable:
        return "DH group not usable";
    case rce::incorrect_payload:
        return "incorrect payload";
    case rce::incorrect_protocol_message:
        return "incorrect protocol message";
    default:
        return "unknown reason";
    }
}

}  // namespace nvmf::auth
