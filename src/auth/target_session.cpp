// DH-HMAC-CHAP, controller side.
#include "auth/target_session.hpp"

#include <atomic>
#include <cstring>

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
    if (n->sc_c != spec::auth_scc::none) {
        // Secure channel concatenation (a TLS PSK from this exchange) is not
        // offered by this controller.
        fail(rce::scc_mismatch, "AUTH_Negotiate asks for secure channel concatenation (SC_C " +
                                    std::to_string(n->sc_c) + ")");
        return;
    }
    hash_ = 0xff;
    for (uint8_t d : digest_preference) {
        if ((p_.digests & n->hashes & (1u << d)) != 0) {
            hash_ = d;
            break;
        }
    }
    if (hash_ == 0xff) {
        fail(rce::hash_unusable, "no hash function both sides allow");
        return;
    }
    dhgroup_ = 0xff;
    for (uint8_t g : dhgroup_preference) {
        if ((p_.dhgroups & n->dhgroups & (1u << g)) != 0) {
            dhgroup_ = g;
            break;
        }
    }
    if (dhgroup_ == 0xff) {
        fail(rce::dhgroup_unusable, "no DH group both sides allow");
        return;
    }
    st_ = state::challenge;
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
    rp.scc = spec::auth_scc::none;
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
    cvalid_ = r->cvalid;
    if (cvalid_) {
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
        if (auto c = compute_response(ckey->span(), cp, {ctrl_response_, hl}); !c) {
            fail(rce::failed, "computing the controller's response: " + c.err().message);
            return;
        }
    }
    dh_.reset();
    st_ = state::success1;
}

std::vector<uint8_t> target_session::make_success1(size_t al) {
    const size_t hl = hash_len(hash_);
    const size_t len = sizeof(spec::dhchap_success1) + (cvalid_ ? hl : 0);
    if (len > al) {
        fail(rce::incorrect_payload,
             "AUTH_Receive allocation length " + std::to_string(al) + " is too small for Success1");
        return {};
    }
    auto out = build_success1(
        t_id_, static_cast<uint8_t>(hl),
        cvalid_ ? std::span<const uint8_t>(ctrl_response_, hl) : std::span<const uint8_t>());
    keyring::cleanse(ctrl_response_, sizeof(ctrl_response_));
    st_ = cvalid_ ? state::success2 : state::completed;
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
