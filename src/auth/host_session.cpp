// DH-HMAC-CHAP, host side.
#include "auth/host_session.hpp"

#include <algorithm>
#include <cstring>

#include "auth/generated_psk.hpp"
#include "auth/messages.hpp"
#include "auth/target_session.hpp"

namespace nvmf::auth {

namespace {
namespace rce = spec::auth_rce;

bool offered(const std::vector<uint8_t>& v, uint8_t id) {
    return std::find(v.begin(), v.end(), id) != v.end();
}
}  // namespace

host_session::host_session(host_params p) : p_(std::move(p)) {}

host_session::~host_session() { keyring::cleanse(expected_ctrl_, sizeof(expected_ctrl_)); }

std::vector<uint8_t> host_session::negotiate() const {
    if (p_.sc_c == spec::auth_scc::none) {
        return build_negotiate(p_.t_id, p_.sc_c, p_.digests, p_.dhgroups);
    }
    // What can make a TLS PSK: no SHA-512 (no cipher suite), no null group
    // (no session key).
    std::vector<uint8_t> digests, groups;
    for (uint8_t d : p_.digests) {
        if (concat_hash_usable(d)) digests.push_back(d);
    }
    for (uint8_t g : p_.dhgroups) {
        if (g != dhgroup_id::null) groups.push_back(g);
    }
    return build_negotiate(p_.t_id, p_.sc_c, digests, groups);
}

keyring::secure_bytes host_session::take_generated_psk() {
    if (!done_) return {};
    return std::move(generated_);
}

host_step host_session::refuse(uint8_t reason, std::string why, bool send_failure2) {
    generated_.clear();
    host_step s;
    s.failed = true;
    s.reason = reason;
    s.why = std::move(why);
    if (send_failure2) s.send = build_failure(spec::auth_id::failure2, p_.t_id, reason);
    return s;
}

// A message that is not the one expected: the controller's Failure1 ends the
// transaction (nothing to send back); anything else gets a Failure2.
host_step host_session::failure1_or(std::span<const uint8_t> msg, const error& e) {
    if (auto f = parse_failure1(msg)) {
        return refuse(f->rce,
                      std::string("the controller refused: AUTH_Failure1, ") + rce_name(f->rce),
                      false);
    }
    return refuse(static_cast<uint8_t>(e.code), e.message, true);
}

host_step host_session::on_challenge(std::span<const uint8_t> msg) {
    if (p_.key == nullptr) return refuse(rce::failed, "no DH-HMAC-CHAP key", true);
    auto c = parse_challenge(msg);
    if (!c) return failure1_or(msg, c.err());
    if (c->t_id != p_.t_id) {
        return refuse(rce::incorrect_payload,
                      "challenge for T_ID " + std::to_string(c->t_id) + ", not ours", true);
    }
    if (!offered(p_.digests, c->hash)) {
        return refuse(
            rce::hash_unusable,
            std::string("the controller chose ") + hash_name(c->hash) + ", which was not offered",
            true);
    }
    if (!offered(p_.dhgroups, c->dhgroup)) {
        return refuse(rce::dhgroup_unusable,
                      std::string("the controller chose ") + dhgroup_name(c->dhgroup) +
                          ", which was not offered",
                      true);
    }
    const bool concat = p_.sc_c != spec::auth_scc::none;
    if (concat && !concat_hash_usable(c->hash)) {
        return refuse(rce::hash_unusable,
                      std::string("the controller chose ") + hash_name(c->hash) +
                          ", which cannot generate a TLS PSK",
                      true);
    }
    if (concat && c->dhgroup == dhgroup_id::null) {
        return refuse(rce::scc_mismatch, "the controller chose the null DH group for concatenation",
                      true);
    }
    hash_ = c->hash;
    dhgroup_ = c->dhgroup;
    const size_t hl = hash_len(hash_);

    secure_bytes dh_secret;
    std::vector<uint8_t> dhv;
    if (dhgroup_ != dhgroup_id::null) {
        auto k = dh_key::generate(dhgroup_);
        if (!k) return refuse(rce::failed, k.err().message, true);
        auto pub = k->public_value();
        if (!pub) return refuse(rce::failed, pub.err().message, true);
        auto s = k->shared_secret(c->dhv);
        if (!s) return refuse(rce::incorrect_payload, s.err().message, true);
        dhv = std::move(*pub);
        dh_secret = std::move(*s);
    }

    auto key = transform_key(*p_.key, p_.hostnqn);
    if (!key) return refuse(rce::failed, key.err().message, true);
    response_params rp;
    rp.hash = hash_;
    rp.challenge = c->cval;
    rp.seqnum = c->seqnum;
    rp.tid = p_.t_id;
    rp.scc = p_.sc_c;
    rp.label = "HostHost";
    rp.nqn1 = p_.hostnqn;
    rp.nqn2 = p_.subnqn;
    rp.dh_secret = dh_secret.span();
    uint8_t rval[max_hash_len];
    if (auto r = compute_response(key->span(), rp, {rval, hl}); !r) {
        return refuse(rce::failed, r.err().message, true);
    }

    uint8_t c2[max_hash_len]{};
    uint32_t s2 = 0;
    const bool bidirectional = p_.ctrl_key != nullptr;
    if (bidirectional || concat) {
        // With concatenation C2 goes into the PSK, and SEQNUM 0 says that
        // it asks for no controller response.
        if (!random_bytes({c2, hl})) return refuse(rce::failed, "no random bytes", true);
    }
    if (bidirectional) {
        s2 = next_seqnum();
        auto ckey = transform_key(*p_.ctrl_key, p_.subnqn);
        if (!ckey) return refuse(rce::failed, ckey.err().message, true);
        response_params cp = rp;
        cp.challenge = {c2, hl};
        cp.seqnum = s2;
        cp.label = "Controller";
        cp.nqn1 = p_.subnqn;
        cp.nqn2 = p_.hostnqn;
        cp.scc = spec::auth_scc::none;  // as the Linux target computes it
        if (auto r = compute_response(ckey->span(), cp, {expected_ctrl_, hl}); !r) {
            return refuse(rce::failed, r.err().message, true);
        }
    }
    if (concat) {
        auto ks = session_key(hash_, dh_secret.span());
        auto psk = ks ? generate_psk(hash_, ks->span(), c->cval, {c2, hl})
                      : result<secure_bytes>(ks.err());
        if (!psk) return refuse(rce::failed, "generating the PSK: " + psk.err().message, true);
        generated_ = std::move(*psk);
    }
    host_step s;
    s.send = build_reply(p_.t_id, {rval, hl}, bidirectional || concat, {c2, hl}, s2, dhv);
    return s;
}

host_step host_session::on_success1(std::span<const uint8_t> msg) {
    auto s = parse_success1(msg);
    if (!s) return failure1_or(msg, s.err());
    if (s->t_id != p_.t_id) {
        return refuse(rce::incorrect_payload,
                      "Success1 for T_ID " + std::to_string(s->t_id) + ", not ours", true);
    }
    host_step out;
    if (p_.ctrl_key == nullptr) {
        out.done = done_ = true;
        return out;
    }
    const size_t hl = hash_len(hash_);
    if (!s->rvalid || s->hl != hl) {
        return refuse(rce::incorrect_payload, "Success1 without the controller's response", true);
    }
    if (!keyring::equal_secret(s->rval, {expected_ctrl_, hl})) {
        return refuse(rce::failed,
                      "the controller's response does not match (wrong controller key)", true);
    }
    out.send = build_success2(p_.t_id);
    out.done = done_ = true;
    return out;
}

}  // namespace nvmf::auth
