// Fuzzes the DH-HMAC-CHAP messages a peer controls: every parser, the
// controller's state machine fed arbitrary AUTH_Send payloads and AUTH_Receive
// lengths, the host's fed arbitrary challenges and Success1, and honest
// transactions with the host's messages mutated, with and without secure
// channel concatenation (SC_C). Input: a mode byte (bits 1:0 the mode, the
// others options), then:
//   mode 0: one byte HL, then a message for every parser;
//   mode 1: operations for auth::target_session, each a byte (odd: AUTH_Send,
//           even: AUTH_Receive), a 2-byte length, then the payload (send);
//           mode byte bits 5:2: the queue's concat_policy;
//   mode 2: a 2-byte length, a challenge of that length, then a Success1;
//           mode byte bits 3:2: the host's SC_C (none, NEWTLSPSK, REPLACETLSPSK);
//   mode 3: choice bytes (digest, group, two-way and SC_C), then XOR masks
//           and length changes applied to an honest host's Reply and
//           Success2/Failure2.
// Besides "never crash, never leak", it checks: AUTH_Receive never returns
// more than its allocation and always a message the host can parse; a failed
// transaction stays failed; only an unmodified exchange authenticates; a PSK
// is generated exactly when a transaction with SC_C completes, and an
// unmodified one gives both sides the same PSK.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "auth/host_session.hpp"
#include "auth/messages.hpp"
#include "auth/target_session.hpp"
#include "keyring/dhchap_secret.hpp"
#include "keyring/keyring.hpp"

namespace {

namespace auth = nvmf::auth;
namespace spec = nvmf::spec;

constexpr const char* hostnqn =
    "nqn.2014-08.org.nvmexpress:uuid:6b1e2a4c-0d7f-4e35-9a51-1f3c2b8d9e70";
constexpr const char* subnqn = "nqn.2026-11.io.nvmf-target:fuzz";

void require(bool ok) {
    if (!ok) std::abort();
}

struct keys {
    nvmf::keyring::store store;
    nvmf::keyring::key_ptr host, ctrl;
    nvmf::keyring::dhchap_secret host_secret, ctrl_secret;

    static keys& get() {
        static keys k;
        return k;
    }

private:
    keys() {
        host = add("host", 1, 0x11);
        ctrl = add("ctrl", 3, 0x22);
        host_secret = parse(host);
        ctrl_secret = parse(ctrl);
    }
    nvmf::keyring::key_ptr add(const char* name, uint8_t hash, uint8_t fill) {
        std::vector<uint8_t> raw(32, fill);
        auto text = nvmf::keyring::format_dhchap_secret(hash, raw);
        return *store.add_key(name, "/fuzz", std::move(*text));
    }
    static nvmf::keyring::dhchap_secret parse(const nvmf::keyring::key_ptr& k) {
        return std::move(*nvmf::keyring::parse_dhchap_secret(k->data()));
    }
};

auth::target_params params(uint32_t digests = auth::all_digests,
                           uint32_t groups = (1u << auth::dhgroup_id::null) |
                                             (1u << auth::dhgroup_id::ffdhe2048)) {
    auto& k = keys::get();
    return {hostnqn, subnqn, digests, groups, k.host, k.ctrl};
}

// A controller message must be one the host side understands.
void check_controller_message(const std::vector<uint8_t>& m, size_t al) {
    require(m.size() <= al);
    if (m.empty()) return;
    const bool known = auth::parse_challenge(m).ok() || auth::parse_success1(m).ok() ||
                       auth::parse_failure1(m).ok();
    require(known);
}

void fuzz_parsers(const uint8_t* d, size_t n) {
    if (n < 1) return;
    const size_t hl = d[0] % 65;
    std::span<const uint8_t> m(d + 1, n - 1);
    (void)auth::peek_header(m);
    if (auto v = auth::parse_negotiate(m)) require(m.size() >= 8 + 64);
    if (auto v = auth::parse_reply(m, hl)) {
        require(v->rval.size() == hl && v->cval.size() == hl);
        require(16 + 2 * hl + v->dhv.size() == m.size());
    }
    (void)auth::parse_success2(m);
    (void)auth::parse_failure2(m);
    if (auto v = auth::parse_challenge(m)) {
        require(v->cval.size() == auth::hash_len(v->hash));
        require(16 + v->cval.size() + v->dhv.size() <= m.size());
    }
    if (auto v = auth::parse_success1(m)) require(16 + v->rval.size() <= m.size());
    (void)auth::parse_failure1(m);
}

auth::concat_policy policy(uint8_t bits) {
    auth::concat_policy c;
    c.admin_queue = (bits & 1) != 0;
    c.tls = (bits & 2) != 0;
    c.tls_usable = (bits & 4) != 0;
    c.required = (bits & 8) != 0;
    return c;
}

constexpr uint8_t sc_c_choices[] = {spec::auth_scc::none, spec::auth_scc::new_tls_psk,
                                    spec::auth_scc::replace_tls_psk, spec::auth_scc::none};

void fuzz_target(uint8_t options, const uint8_t* d, size_t n) {
    auto tp = params();
    tp.concat = policy(options);
    auth::target_session t(tp);
    size_t i = 0;
    bool failed = false;
    int ops = 0;
    while (i + 3 <= n && ops++ < 16) {
        const uint8_t op = d[i];
        const size_t len = d[i + 1] | static_cast<size_t>(d[i + 2]) << 8;
        i += 3;
        if (op & 1) {
            const size_t take = std::min(len, n - i);
            t.on_send({d + i, take});
            i += take;
        } else {
            check_controller_message(t.on_recv(len), len);
        }
        require(!t.completed());  // nobody here knows the key
        require(t.take_generated_psk().empty());
        if (failed) require(t.failed());
        failed = t.failed();
    }
}

void fuzz_host(uint8_t options, const uint8_t* d, size_t n) {
    if (n < 2) return;
    auto& k = keys::get();
    const size_t len = std::min<size_t>(d[0] | static_cast<size_t>(d[1]) << 8, n - 2);
    auth::host_params p{hostnqn, subnqn, &k.host_secret, (d[0] & 1) ? &k.ctrl_secret : nullptr};
    p.dhgroups = {auth::dhgroup_id::null, auth::dhgroup_id::ffdhe2048};
    p.sc_c = sc_c_choices[options & 3];
    auth::host_session h(p);
    auto s = h.on_challenge({d + 2, len});
    if (!s.send.empty()) {
        require(s.failed ? auth::parse_failure2(s.send).ok()
                         : auth::parse_reply(s.send, auth::hash_len(h.hash())).ok());
    }
    if (s.failed) return;
    s = h.on_success1({d + 2 + len, n - 2 - len});
    if (!s.send.empty()) {
        require(s.failed ? auth::parse_failure2(s.send).ok() : auth::parse_success2(s.send).ok());
    }
    // A PSK only from a transaction that asked for one and got through.
    const auto psk = h.take_generated_psk();
    require(psk.empty() || (s.done && p.sc_c != spec::auth_scc::none));
}

// Applies mask bytes from the input to msg: XOR, then maybe a new length.
bool mutate(std::vector<uint8_t>& msg, const uint8_t*& d, size_t& n) {
    bool changed = false;
    for (size_t j = 0; j < msg.size() && n > 0; ++j, ++d, --n) {
        msg[j] ^= *d;
        changed = changed || *d != 0;
    }
    if (n > 0) {
        const uint8_t c = *d++;
        --n;
        if (c == 0xfe && !msg.empty()) {
            msg.pop_back();
            changed = true;
        } else if (c == 0xff) {
            msg.push_back(0);
            changed = true;
        }
    }
    return changed;
}

void fuzz_honest(const uint8_t* d, size_t n) {
    if (n < 3) return;
    auto& k = keys::get();
    const uint8_t sc_c = sc_c_choices[(d[2] >> 1) & 3];
    const bool concat = sc_c != spec::auth_scc::none;
    // What concatenation can use: SHA-256/384, a DH group.
    const uint8_t digest = static_cast<uint8_t>(1 + d[0] % (concat ? 2 : 3));
    const uint8_t group =
        (concat || (d[1] & 1)) ? auth::dhgroup_id::ffdhe2048 : auth::dhgroup_id::null;
    const bool two_way = (d[2] & 1) != 0;
    d += 3;
    n -= 3;
    auto tp = params();
    tp.concat.admin_queue = true;
    tp.concat.tls_usable = true;
    tp.concat.tls = sc_c == spec::auth_scc::replace_tls_psk;
    auth::target_session t(tp);
    auth::host_params p{hostnqn, subnqn, &k.host_secret, two_way ? &k.ctrl_secret : nullptr};
    p.digests = {digest};
    p.dhgroups = {group};
    p.t_id = 5;
    p.sc_c = sc_c;
    auth::host_session h(p);
    t.on_send(h.negotiate());
    auto challenge = t.on_recv(4096);
    check_controller_message(challenge, 4096);
    auto step = h.on_challenge(challenge);
    require(!step.failed);
    bool changed = mutate(step.send, d, n);
    t.on_send(step.send);
    auto success1 = t.on_recv(4096);
    check_controller_message(success1, 4096);
    step = h.on_success1(success1);
    if (!changed) require(!step.failed && step.done);
    if (!step.send.empty()) {
        changed = mutate(step.send, d, n) || changed;
        t.on_send(step.send);
    }
    if (!changed) {
        require(t.completed());
        require(t.hash() == digest && t.dhgroup() == group);
    }
    if (t.completed()) require(!step.failed);
    const auto tpsk = t.take_generated_psk();
    const auto hpsk = h.take_generated_psk();
    require(tpsk.empty() == !(t.completed() && concat));
    if (!changed && concat) {
        require(!tpsk.empty() && nvmf::keyring::equal_secret(tpsk.span(), hpsk.span()));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    const auto options = static_cast<uint8_t>(data[0] >> 2);
    switch (data[0] % 4) {
    case 0:
        fuzz_parsers(data + 1, size - 1);
        break;
    case 1:
        fuzz_target(options, data + 1, size - 1);
        break;
    case 2:
        fuzz_host(options, data + 1, size - 1);
        break;
    default:
        fuzz_honest(data + 1, size - 1);
        break;
    }
    return 0;
}
