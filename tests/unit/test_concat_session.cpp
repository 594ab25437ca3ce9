// Secure channel concatenation in the DH-HMAC-CHAP state machines, back to
// back with no transport: both sides generate the same PSK (and so the same
// NVMe1G identity and TLS PSK), in one- and two-way transactions, and every
// SC_C refusal gets the reason code the Linux target gives it.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "auth/generated_psk.hpp"
#include "auth/host_session.hpp"
#include "auth/messages.hpp"
#include "auth/target_session.hpp"
#include "keyring/dhchap_secret.hpp"
#include "keyring/keyring.hpp"
#include "test_bytes.hpp"

namespace nvmf::auth {
namespace {

namespace rce = spec::auth_rce;
namespace scc = spec::auth_scc;
using state = target_session::state;

constexpr const char* hostnqn =
    "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555";
constexpr const char* subnqn = "nqn.2024-01.io.nvmf-target:concat";

// A plain admin queue on a listener that also takes TLS.
concat_policy plain_admin() {
    concat_policy c;
    c.admin_queue = true;
    c.tls_usable = true;
    return c;
}

concat_policy tls_admin() {
    concat_policy c = plain_admin();
    c.tls = true;
    return c;
}

struct concat_session : ::testing::Test {
    keyring::store store;
    std::string hk = test::dhchap_key_text(1, 32, 3), ck = test::dhchap_key_text(2, 48, 9);
    keyring::key_ptr host_key = add("host", hk), ctrl_key = add("ctrl", ck);
    keyring::dhchap_secret hs = secret(hk), cs = secret(ck);

    keyring::key_ptr add(const std::string& name, const std::string& text) {
        auto k = store.add_key(name, "/dev/null", keyring::secure_bytes(text.data(), text.size()));
        EXPECT_TRUE(k) << k.err().message;
        return k ? *k : nullptr;
    }
    static keyring::dhchap_secret secret(const std::string& text) {
        auto s = keyring::parse_dhchap_secret(
            {reinterpret_cast<const uint8_t*>(text.data()), text.size()});
        return std::move(*s);
    }
    target_params target(concat_policy c) {
        target_params p{hostnqn, subnqn, all_digests, all_dhgroups, host_key, ctrl_key};
        p.concat = c;
        return p;
    }
    host_params host(uint8_t sc_c, bool two_way = false) {
        host_params p{hostnqn, subnqn, &hs, two_way ? &cs : nullptr};
        p.sc_c = sc_c;
        p.t_id = 5;
        return p;
    }
};

// One transaction; true when both sides say done.
bool run(target_session& t, host_session& h) {
    t.on_send(h.negotiate());
    auto step = h.on_challenge(t.on_recv(4096));
    if (!step.send.empty()) t.on_send(step.send);
    if (step.failed) return false;
    step = h.on_success1(t.on_recv(4096));
    if (!step.send.empty()) t.on_send(step.send);
    return step.done && t.completed();
}

// The Failure1 reason for a negotiate on a queue with this policy.
int refusal(target_session& t, const std::vector<uint8_t>& negotiate) {
    t.on_send(negotiate);
    auto f = parse_failure1(t.on_recv(4096));
    EXPECT_TRUE(t.failed());
    return f ? f->rce : -1;
}

TEST_F(concat_session, both_sides_generate_the_same_psk) {
    for (uint8_t d : {hash_id::sha256, hash_id::sha384}) {
        for (uint8_t g : {dhgroup_id::ffdhe2048, dhgroup_id::ffdhe3072}) {
            for (bool two_way : {false, true}) {
                for (uint8_t sc_c : {scc::new_tls_psk, scc::replace_tls_psk}) {
                    SCOPED_TRACE(std::string(hash_name(d)) + " " + dhgroup_name(g) +
                                 (two_way ? " two-way" : " one-way") + " SC_C " +
                                 std::to_string(sc_c));
                    target_session t(
                        target(sc_c == scc::new_tls_psk ? plain_admin() : tls_admin()));
                    auto hp = host(sc_c, two_way);
                    hp.digests = {d};
                    hp.dhgroups = {g};
                    host_session h(hp);
                    ASSERT_TRUE(run(t, h)) << t.last_error();
                    EXPECT_EQ(t.sc_c(), sc_c);
                    EXPECT_EQ(t.bidirectional(), two_way);
                    auto tp = t.take_generated_psk();
                    auto hpsk = h.take_generated_psk();
                    ASSERT_EQ(tp.size(), hash_len(d));
                    EXPECT_TRUE(keyring::equal_secret(tp.span(), hpsk.span()));
                    EXPECT_TRUE(t.take_generated_psk().empty());  // handed over once
                    auto a = generated_credentials(d, tp.span(), hostnqn, subnqn);
                    auto b = generated_credentials(d, hpsk.span(), hostnqn, subnqn);
                    ASSERT_TRUE(a && b);
                    EXPECT_EQ(a->identity, b->identity);
                    EXPECT_TRUE(a->tls_psk == b->tls_psk);
                }
            }
        }
    }
}

TEST_F(concat_session, every_transaction_generates_another_psk) {
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i) {
        target_session t(target(plain_admin()));
        host_session h(host(scc::new_tls_psk));
        ASSERT_TRUE(run(t, h));
        auto psk = t.take_generated_psk();
        auto c = generated_credentials(t.hash(), psk.span(), hostnqn, subnqn);
        ASSERT_TRUE(c);
        for (const auto& id : ids) EXPECT_NE(id, c->identity);
        ids.push_back(c->identity);
    }
}

TEST_F(concat_session, host_offers_only_what_can_make_a_psk) {
    host_session h(host(scc::new_tls_psk));  // configured with all digests and groups
    auto n = parse_negotiate(h.negotiate());
    ASSERT_TRUE(n);
    EXPECT_EQ(n->sc_c, scc::new_tls_psk);
    EXPECT_EQ(n->hashes, (1u << hash_id::sha256) | (1u << hash_id::sha384));
    EXPECT_EQ(n->dhgroups & 1u, 0u);  // no null group
    EXPECT_NE(n->dhgroups, 0u);
    // The controller picks within that: SHA-384 and ffdhe8192 here.
    target_session t(target(plain_admin()));
    ASSERT_TRUE(run(t, h));
    EXPECT_EQ(t.hash(), hash_id::sha384);
    EXPECT_EQ(t.dhgroup(), dhgroup_id::ffdhe8192);
}

TEST_F(concat_session, sc_c_refusals_are_concatenation_mismatch) {
    const uint8_t all_h[] = {1, 2, 3}, all_g[] = {0, 1, 2, 3, 4, 5};
    auto neg = [&](uint8_t sc_c) { return build_negotiate(1, sc_c, all_h, all_g); };
    concat_policy io = plain_admin();
    io.admin_queue = false;
    {
        target_session t(target(io));  // SC_C on an I/O queue
        EXPECT_EQ(refusal(t, neg(scc::new_tls_psk)), rce::scc_mismatch);
        EXPECT_NE(t.last_error().find("I/O queue"), std::string::npos);
    }
    {
        concat_policy tls_io = tls_admin();
        tls_io.admin_queue = false;
        target_session t(target(tls_io));
        EXPECT_EQ(refusal(t, neg(scc::replace_tls_psk)), rce::scc_mismatch);
    }
    {
        target_session t(target(tls_admin()));  // NEWTLSPSK over TLS
        EXPECT_EQ(refusal(t, neg(scc::new_tls_psk)), rce::scc_mismatch);
    }
    {
        target_session t(target(plain_admin()));  // REPLACETLSPSK without TLS
        EXPECT_EQ(refusal(t, neg(scc::replace_tls_psk)), rce::scc_mismatch);
    }
    for (uint8_t v : {scc::obsolete_tls, uint8_t{4}, uint8_t{0xff}}) {
        target_session t(target(plain_admin()));
        EXPECT_EQ(refusal(t, neg(v)), rce::scc_mismatch) << int{v};
    }
    {
        concat_policy none = plain_admin();
        none.tls_usable = false;  // nothing could use the PSK
        target_session t(target(none));
        EXPECT_EQ(refusal(t, neg(scc::new_tls_psk)), rce::scc_mismatch);
    }
    {
        target_session t(target({}));  // the default: no concatenation
        EXPECT_EQ(refusal(t, neg(scc::new_tls_psk)), rce::scc_mismatch);
    }
    {
        concat_policy required = plain_admin();
        required.required = true;  // a plain connection of a secure_concat listener
        target_session t(target(required));
        EXPECT_EQ(refusal(t, neg(scc::none)), rce::scc_mismatch);
        target_session ok(target(required));
        ok.on_send(neg(scc::new_tls_psk));
        EXPECT_EQ(ok.current(), state::challenge);
    }
}

TEST_F(concat_session, null_group_and_sha512_cannot_generate_a_psk) {
    const uint8_t all_h[] = {1, 2, 3}, only512[] = {3}, all_g[] = {0, 1, 2}, only_null[] = {0};
    {
        // The Linux target's code for a null DH group with concatenation.
        target_session t(target(plain_admin()));
        EXPECT_EQ(refusal(t, build_negotiate(1, scc::new_tls_psk, all_h, only_null)),
                  rce::scc_mismatch);
    }
    {
        // The target allows only null: the same.
        auto p = target(plain_admin());
        p.dhgroups = 1u << dhgroup_id::null;
        target_session t(p);
        EXPECT_EQ(refusal(t, build_negotiate(1, scc::new_tls_psk, all_h, all_g)),
                  rce::scc_mismatch);
    }
    {
        target_session t(target(plain_admin()));
        EXPECT_EQ(refusal(t, build_negotiate(1, scc::new_tls_psk, only512, all_g)),
                  rce::hash_unusable);
        EXPECT_NE(t.last_error().find("SHA-256 or SHA-384"), std::string::npos);
    }
    {
        // Offered alongside, SHA-512 and null are passed over, not refused.
        target_session t(target(plain_admin()));
        t.on_send(build_negotiate(1, scc::new_tls_psk, all_h, all_g));
        EXPECT_EQ(t.current(), state::challenge);
        EXPECT_EQ(t.hash(), hash_id::sha384);
        EXPECT_EQ(t.dhgroup(), dhgroup_id::ffdhe3072);
    }
    {
        // Without concatenation SHA-512 and null stay the strongest/allowed.
        target_session t(target(plain_admin()));
        t.on_send(build_negotiate(1, scc::none, all_h, only_null));
        EXPECT_EQ(t.current(), state::challenge);
        EXPECT_EQ(t.hash(), hash_id::sha512);
    }
}

TEST_F(concat_session, reply_rules) {
    // Runs to the reply, lets the test change it: the target's failure
    // reason (0: none) and whether it answers for the controller too.
    struct after {
        uint8_t reason;
        bool bidirectional;
    };
    auto after_reply = [&](uint8_t sc_c, auto mutate) {
        target_session t(target(plain_admin()));
        auto hp = host(sc_c);
        hp.digests = {hash_id::sha256};
        hp.dhgroups = {dhgroup_id::ffdhe2048};
        host_session h(hp);
        t.on_send(h.negotiate());
        auto reply = h.on_challenge(t.on_recv(4096)).send;
        mutate(reply);
        t.on_send(reply);
        return after{t.current() == state::failure1 ? t.failure_reason() : uint8_t{0},
                     t.bidirectional()};
    };
    // CVALID 0 with concatenation: no C2, no PSK (the Linux target: failed).
    EXPECT_EQ(after_reply(scc::new_tls_psk, [](auto& r) { r[8] = 0; }).reason, rce::failed);
    // CVALID with SEQNUM 0 is how a one-way concatenating host replies.
    auto ok = after_reply(scc::new_tls_psk, [](auto&) {});
    EXPECT_EQ(ok.reason, 0);
    EXPECT_FALSE(ok.bidirectional);
    // Without concatenation CVALID with SEQNUM 0 is reserved.
    EXPECT_EQ(after_reply(scc::none, [](auto& r) { r[8] = 1; }).reason, rce::incorrect_payload);
    // R1 binds SC_C: a reply computed by a host that did not ask for
    // concatenation does not answer a NEWTLSPSK transaction.
    {
        target_session tt(target(plain_admin()));
        auto asked = host(scc::new_tls_psk);
        asked.digests = {hash_id::sha256};
        asked.dhgroups = {dhgroup_id::ffdhe2048};
        auto other = asked;
        other.sc_c = scc::none;
        host_session h(asked), h0(other);
        tt.on_send(h.negotiate());
        auto reply = h0.on_challenge(tt.on_recv(4096)).send;
        ASSERT_FALSE(reply.empty());
        tt.on_send(reply);
        EXPECT_EQ(tt.failure_reason(), rce::failed);
        EXPECT_NE(tt.last_error().find("does not match"), std::string::npos);
    }
}

TEST_F(concat_session, a_failed_transaction_yields_no_psk) {
    // Wrong host key with concatenation.
    const auto wrong = secret(test::dhchap_key_text(1, 32, 4));
    target_session t(target(plain_admin()));
    host_params hp = host(scc::new_tls_psk);
    hp.key = &wrong;
    host_session h(hp);
    EXPECT_FALSE(run(t, h));
    EXPECT_EQ(t.failure_reason(), rce::failed);
    EXPECT_TRUE(t.take_generated_psk().empty());
    EXPECT_TRUE(h.take_generated_psk().empty());
    // Two-way with a wrong controller key: the host refuses the controller.
    const auto wrong_ctrl = secret(test::dhchap_key_text(2, 48, 10));
    target_session t2(target(plain_admin()));
    host_params hp2 = host(scc::new_tls_psk, true);
    hp2.ctrl_key = &wrong_ctrl;
    host_session h2(hp2);
    EXPECT_FALSE(run(t2, h2));
    EXPECT_TRUE(t2.failed());
    EXPECT_TRUE(t2.take_generated_psk().empty());
    EXPECT_TRUE(h2.take_generated_psk().empty());
}

TEST_F(concat_session, host_refuses_a_challenge_that_cannot_make_a_psk) {
    host_params hp = host(scc::new_tls_psk);
    hp.t_id = 9;
    std::vector<uint8_t> c32(32, 1), c64(64, 1);
    host_session a(hp);
    const std::vector<uint8_t> dh(256, 2);
    auto s = a.on_challenge(build_challenge(9, hash_id::sha512, 1, 5, c64, dh));
    EXPECT_TRUE(s.failed);
    EXPECT_EQ(s.reason, rce::hash_unusable);
    host_session b(hp);
    s = b.on_challenge(build_challenge(9, hash_id::sha256, 0, 5, c32, {}));
    EXPECT_TRUE(s.failed);
    EXPECT_EQ(s.reason, rce::scc_mismatch);
}

}  // namespace
}  // namespace nvmf::auth
