// DH-HMAC-CHAP, controller side.
#include "auth/target_session.hpp"

#include <atomic>
#include <cstring>

#include "auth/generated_psk.hpp"
#include "auth/messages.hpp"
#include "keyring/dhchap_secret.hpp"

namespace nvmf::auth {

namespace {

namespace rce = spec::auth_rce;

// Strongest first: the controller picks the best both sides allow, as SPDK does.
constexpr uint8_t digest_preference[] = {hash_id::sha512, hash_id::sha384, hash_id::sha256};
constexpr uint8_t dhgroup_preference[] = {dhgroup_id::ffdhe8192, dhgroup_id::ffdhe6144,
                                          dhgroup_id::ffdhe4096, dhgroup_id::ffdhe3072,
                                          dhgroup_id::ffdhe2048, dhgroup_id::null};

// The transformed secret of a key from the keyring, for nqn.
result<secure_bytes> key_for(const keyring::key_ptr& k, std::string_view nqn, const char* which) {
    if (!k) return make_error(rce::failed, std::string("no ") + which + " key configured");
    if (!k->usable()) {
        return make_error(rce::failed, std::string(which) + " key '" + k->name() +
                                           "' was removed from the keyring");
    }
    auto s = keyring::parse_dhchap_secret(k->data());
    if (!s) {
        return make_error(rce::failed,
                          std::string(which) + " key '" + k->name() + "': " + s.err().message);
    }
    auto t = transform_key(*s, nqn);
    if (!t) return make_error(rce::failed, t.err().message);
    return t;
}

}  // namespace

uint32_t next_seqnum() {
    static std::atomic<uint32_t> counter = [] {
        uint32_t v = 0;
        if (!random_bytes({reinterpret_cast<uint8_t*>(&v), sizeof(v)})) v = 1;
        return v;
    }();
    uint32_t s;
    do {
        s = counter.fetch_add(1, std::memory_order_relaxed) + 1;
    } while (s == 0);
    return s;
}

const char* target_session::state_name(state s) {
    switch (s) {
    case state::negotiate:
        return "negotiate";
    case state::challenge:
        return "challenge";
    case state::reply:
        return "reply";
    case state::success1:
        return "success1";
    case state::success2:
        return "success2";
    case state::failure1:
        return "failure1";
    case state::completed:
        return "completed";
    case state::failed:
        return "failed";
    }
    return "?";
}

target_session::target_session(target_params p) : p_(std::move(p)) {}

target_session::~target_session() { keyring::cleanse(ctrl_response_, sizeof(ctrl_response_)); }

void target_session::fail(uint8_t reason, std::string why) {
    st_ = state::failure1;
    reason_ = reason;
    why_ = std::move(why);
    dh_.reset();
    generated_.clear();
}

keyring::secure_bytes target_session::take_generated_psk() {
    if (st_ != state::completed) return {};
    return std::move(generated_);
}

void target_session::on_send(std::span<const uint8_t> msg) {
    if (st_ == state::failed) return;
    if (st_ == state::failure1) return;  // the failure stands; AUTH_Receive reports it
    auto h = peek_header(msg);
    if (!h) {
        fail(rce::incorrect_payload, "AUTH_Send payload shorter than the message header");
        return;
    }
    if (h->auth_type == spec::auth_type::common && h->auth_id == spec::auth_id::negotiate) {
        on_negotiate(msg);
    } else if (h->auth_type == spec::auth_type::common && h->auth_id == spec::auth_id::failure2) {
        on_failure2(msg);
    } else if (h->auth_type == spec::auth_type::dhchap &&
               h->auth_id == spec::auth_id::dhchap_reply) {
        on_reply(msg);
    } else if (h->auth_type == spec::auth_type::dhchap &&
               h->auth_id == spec::auth_id::dhchap_success2) {
        on_success2(msg);
    } else {
        fail(rce::incorrect_protocol_message, "unexpected message type " +
                                                  std::to_string(h->auth_type) + " id " +
                                                  std::to_string(h->auth_id) + " from the host");
    }
}

void target_session::on_negotiate(std::span<const uint8_t> msg) {
    if (st_ != state::negotiate) {
        fail(rce::incorrect_protocol_message,
             std::string("AUTH_Negotiate in state ") + state_name(st_));
        return;
    }
    auto n = parse_negotiate(msg);
    if (auto h = peek_header(msg)) t_id_ = h->t_id;
    if (!n) {
        fail(static_cast<uint8_t>(n.err().code), n.err().message);
        return;
    }
    t_id_ = n->t_id;
    if (!check_sc_c(n->sc_c)) return;
    sc_c_ = n->sc_c;
    pick_hash(n->hashes);
    if (st_ == state::failure1) return;
    pick_dhgroup(n->dhgroups);
    if (st_ == state::failure1) return;
    st_ = state::challenge;
}

// The Linux target's rules (nvmet_auth_negotiate), refused with "secure
// channel concatenation mismatch": SC_C only on an admin queue, NEWTLSPSK
// only without TLS, REPLACETLSPSK only with it, nothing else defined. Ours
// adds: NEWTLSPSK only where the subsystem takes TLS (else the PSK has no
// use), and nothing but NEWTLSPSK on a plain connection of a secure_concat
// listener (that connection exists for it alone).
bool target_session::check_sc_c(uint8_t sc_c) {
    const concat_policy& c = p_.concat;
    const std::string what = "AUTH_Negotiate SC_C " + std::to_string(sc_c);
    if (sc_c == spec::auth_scc::none) {
        if (c.required) {
            fail(rce::scc_mismatch, what +
                                        " on a plain connection of a secure_concat listener, "
                                        "which takes only NEWTLSPSK (02h)");
            return false;
        }
        return true;
    }
    if (!c.admin_queue) {
        fail(rce::scc_mismatch, what + " on an I/O queue: concatenation is for admin queues");
        return false;
    }
    switch (sc_c) {
    case spec::auth_scc::new_tls_psk:
        if (c.tls) {
            fail(rce::scc_mismatch,
                 what + " (NEWTLSPSK) on a TLS queue: REPLACETLSPSK replaces its PSK");
            return false;
        }
        if (!c.tls_usable) {
            fail(rce::scc_mismatch, what + " (NEWTLSPSK): no listener of " + p_.subnqn +
                                        " takes TLS, a generated PSK would have no use");
            return false;
        }
        return true;
    case spec::auth_scc::replace_tls_psk:
        if (!c.tls) {
            fail(rce::scc_mismatch, what + " (REPLACETLSPSK) on a queue without TLS");
            return false;
        }
        return true;
    case spec::auth_scc::obsolete_tls:
        fail(rce::scc_mismatch, what + ": 01h is obsolete (NVMe Base 2.0)");
        return false;
    default:
        fail(rce::scc_mismatch, what + ": not defined");
        return false;
    }
}

void target_session::pick_hash(uint32_t offered) {
    hash_ = 0xff;
    const uint32_t both = p_.digests & offered;
    for (uint8_t d : digest_preference) {
        // A generated PSK needs a hash that has a TLS cipher suite.
        if ((both & (1u << d)) != 0 && (sc_c_ == spec::auth_scc::none || concat_hash_usable(d))) {
            hash_ = d;
            return;
        }
    }
    fail(rce::hash_unusable, both != 0 ? "secure channel concatenation needs SHA-256 or SHA-384"
                                       : "no hash function both sides allow");
}

void target_session::pick_dhgroup(uint32_t offered) {
    dhgroup_ = 0xff;
    const uint32_t both = p_.dhgroups & offered;
    for (uint8_t g : dhgroup_preference) {
        if ((both & (1u << g)) == 0) continue;
        if (g == dhgroup_id::null && sc_c_ != spec::auth_scc::none) {
            // No DH exchange, no session key: nothing to make a PSK from.
            // The Linux target's reason for it: concatenation mismatch.
            fail(rce::scc_mismatch, "the null DH group cannot generate a PSK");
            return;
        }
        dhgroup_ = g;
        return;
    }
    fail(rce::dhgroup_unusable, "no DH group both sides allow");
}

std::vector<uint8_t> target_session::make_challenge(size_t al) {
    const size_t hl = hash_len(hash_);
    std::vector<uint8_t> dhv;
    if (dhgroup_ != dhgroup_id::null) {
        auto k = dh_key::generate(dhgroup_);
        if (!k) {
            fail(rce::failed, "DH key generation: " + k.err().message);
            return {};
        }
        auto pub = k->public_value();
        if (!pub) {
            fail(rce::failed, "DH public value: " + pub.err().message);
            return {};
        }
        dh_ = std::move(*k);
        dhv = std::move(*pub);
    }
    if (sizeof(spec::dhchap_challenge) + hl + dhv.size() > al) {
        fail(rce::incorrect_payload, "AUTH_Receive allocation length " + std::to_string(al) +
                                         " is too small for the challenge");
        return {};
    }
    if (!random_bytes({c1_, hl})) {
        fail(rce::failed, "no random bytes for the challenge");
        return {};
    }
    seqnum_ = next_seqnum();
    st_ = state::reply;
    return build_challenge(t_id_, hash_, dhgroup_, seqnum_, {c1_, hl}, dhv);
}

void target_session::on_reply(std::span<const uint8_t> msg) {
    if (st_ != state::reply) {
        fail(rce::incorrect_protocol_message,
             std::string("DH-HMAC-CHAP_Reply in state ") + state_name(st_));
        return;
    }
    const size_t hl = hash_len(hash_);
    auto r = parse_reply(msg, hl);
    if (!r) {
        fail(static_cast<uint8_t>(r.err().code), r.err().message);
        return;
    }
    const bool concat = sc_c_ != spec::auth_scc::none;
    if (r->cvalid && r->seqnum == 0 && !concat) {
        // SEQNUM 0 means "C2 only for a generated PSK": reserved without
        // concatenation, where CVALID asks to authenticate the controller.
        fail(rce::incorrect_payload, "DH-HMAC-CHAP_Reply: CVALID with SEQNUM 0");
        return;
    }
    if (r->t_id != t_id_) {
        fail(rce::incorrect_payload, "T_ID " + std::to_string(r->t_id) + " in the reply, " +
                                         std::to_string(t_id_) + " negotiated");
        return;
    }
    secure_bytes dh_secret;
    if (dhgroup_ != dhgroup_id::null) {
        if (r->dhv.size() != dhgroup_len(dhgroup_)) {
            fail(rce::incorrect_payload,
                 "DHVLEN " + std::to_string(r->dhv.size()) + " for " + dhgroup_name(dhgroup_));
            return;
        }
        auto s = dh_->shared_secret(r->dhv);
        if (!s) {
            fail(rce::failed, "host DH value refused: " + s.err().message);
            return;
        }
        dh_secret = std::move(*s);
    } else if (!r->dhv.empty()) {
        fail(rce::incorrect_payload, "a DH value in a reply for the null DH group");
        return;
    }
    auto key = key_for(p_.host_key, p_.hostnqn, "host");
    if (!key) {
        fail(rce::failed, key.err().message);
        return;
    }
    response_params rp;
    rp.hash = hash_;
    rp.challenge = {c1_, hl};
    rp.seqnum = seqnum_;
    rp.tid = t_id_;
    rp.scc = sc_c_;
    rp.label = "HostHost";
    rp.nqn1 = p_.hostnqn;
    rp.nqn2 = p_.subnqn;
    rp.dh_secret = dh_secret.span();
    uint8_t expected[max_hash_len];
    if (auto c = compute_response(key->span(), rp, {expected, hl}); !c) {
        fail(rce::failed, "computing the expected response: " + c.err().message);
        return;
    }
    const bool match = keyring::equal_secret(r->rval, {expected, hl});
    keyring::cleanse(expected, sizeof(expected));
    if (!match) {
        fail(rce::failed, "the host's response does not match (wrong key)");
        return;
    }
    if (concat && !r->cvalid) {
        // The generated PSK is made of both challenges (the Linux target's
        // reason code for it).
        fail(rce::failed, "secure channel concatenation without the host's challenge (CVALID 0)");
        return;
    }
    // With concatenation SEQNUM 0 carries C2 for the PSK only, no request to
    // authenticate the controller.
    bidirectional_ = r->cvalid && r->seqnum != 0;
    if (bidirectional_) {
        auto ckey = key_for(p_.ctrl_key, p_.subnqn, "controller");
        if (!ckey) {
            fail(rce::failed,
                 "the host asks to authenticate the controller: " + ckey.err().message);
            return;
        }
        response_params cp = rp;
        cp.challenge = r->cval;
        cp.seqnum = r->seqnum;
        cp.label = "Controller";
        cp.nqn1 = p_.subnqn;
        cp.nqn2 = p_.hostnqn;
        // SC_C 0 in the controller's response, as the Linux host and target
        // compute it (they put the negotiated SC_C in the host's only).
        cp.scc = spec::auth_scc::none;
        if (auto c = compute_response(ckey->span(), cp, {ctrl_response_, hl}); !c) {
            fail(rce::failed, "computing the controller's response: " + c.err().message);
            return;
        }
    }
    if (concat) {
        auto ks = session_key(hash_, dh_secret.span());
        auto psk = ks ? generate_psk(hash_, ks->span(), {c1_, hl}, r->cval)
                      : result<keyring::secure_bytes>(ks.err());
        if (!psk) {
            fail(rce::failed, "generating the PSK: " + psk.err().message);
            return;
        }
        generated_ = std::move(*psk);
    }
    dh_.reset();
    st_ = state::success1;
}

std::vector<uint8_t> target_session::make_success1(size_t al) {
    const size_t hl = hash_len(hash_);
    const size_t len = sizeof(spec::dhchap_success1) + (bidirectional_ ? hl : 0);
    if (len > al) {
        fail(rce::incorrect_payload,
             "AUTH_Receive allocation length " + std::to_string(al) + " is too small for Success1");
        return {};
    }
    auto out = build_success1(
        t_id_, static_cast<uint8_t>(hl),
        bidirectional_ ? std::span<const uint8_t>(ctrl_response_, hl) : std::span<const uint8_t>());
    keyring::cleanse(ctrl_response_, sizeof(ctrl_response_));
    st_ = bidirectional_ ? state::success2 : state::completed;
    return out;
}

void target_session::on_success2(std::span<const uint8_t> msg) {
    if (st_ != state::success2) {
        fail(rce::incorrect_protocol_message,
             std::string("DH-HMAC-CHAP_Success2 in state ") + state_name(st_));
        return;
    }
    auto t = parse_success2(msg);
    if (!t) {
        fail(static_cast<uint8_t>(t.err().code), t.err().message);
        return;
    }
    if (*t != t_id_) {
        fail(rce::incorrect_payload, "T_ID " + std::to_string(*t) + " in Success2, " +
                                         std::to_string(t_id_) + " negotiated");
        return;
    }
    st_ = state::completed;
}

void target_session::on_failure2(std::span<const uint8_t> msg) {
    // Only meaningful while the host checks the controller's response.
    if (st_ != state::success2) {
        fail(rce::incorrect_protocol_message,
             std::string("AUTH_Failure2 in state ") + state_name(st_));
        return;
    }
    auto f = parse_failure2(msg);
    if (!f) {
        fail(static_cast<uint8_t>(f.err().code), f.err().message);
        return;
    }
    st_ = state::failed;
    reason_ = f->rce;
    why_ = std::string("the host refused the controller: ") + rce_name(f->rce);
}

std::vector<uint8_t> target_session::on_recv(size_t al) {
    std::vector<uint8_t> out;
    switch (st_) {
    case state::challenge:
        out = make_challenge(al);
        break;
    case state::success1:
        out = make_success1(al);
        break;
    case state::failure1:
        break;
    default:
        fail(rce::incorrect_protocol_message,
             std::string("AUTH_Receive in state ") + state_name(st_));
        break;
    }
    if (st_ == state::failure1) {
        st_ = state::failed;
        if (al < sizeof(spec::auth_failure)) return {};
        return build_failure(spec::auth_id::failure1, t_id_, reason_);
    }
    return out;
}

}  // namespace nvmf::auth
