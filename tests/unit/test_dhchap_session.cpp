// The DH-HMAC-CHAP state machines of both sides, wired back to back with no
// transport: every digest and DH group, one- and two-way, and each refusal
// with the reason code the specification gives it.
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "auth/host_session.hpp"
#include "auth/messages.hpp"
#include "auth/target_session.hpp"
#include "keyring/dhchap_secret.hpp"
#include "keyring/keyring.hpp"
#include "test_bytes.hpp"

namespace nvmf::auth {
namespace {

namespace rce = spec::auth_rce;
using state = target_session::state;

constexpr const char* hostnqn =
    "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555";
constexpr const char* subnqn = "nqn.2024-01.io.nvmf-target:auth";

struct dhchap_session : ::testing::Test {
    keyring::store store;
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
};

struct outcome {
    state target = state::negotiate;
    uint8_t target_reason = 0;
    bool host_done = false;
    bool host_failed = false;
    uint8_t host_reason = 0;
    uint8_t hash = 0, dhgroup = 0;
};

// One transaction, as the host library runs it.
outcome run(target_session& t, host_session& h) {
    outcome o;
    t.on_send(h.negotiate());
    auto step = h.on_challenge(t.on_recv(4096));
    if (!step.send.empty()) t.on_send(step.send);
    if (!step.failed) {
        step = h.on_success1(t.on_recv(4096));
        if (!step.send.empty()) t.on_send(step.send);
    }
    o.host_done = step.done;
    o.host_failed = step.failed;
    o.host_reason = step.reason;
    o.target = t.current();
    o.target_reason = t.failure_reason();
    o.hash = t.hash();
    o.dhgroup = t.dhgroup();
    return o;
}

TEST_F(dhchap_session, every_digest_and_group_one_and_two_way) {
    const std::string hk = test::dhchap_key_text(1, 32, 3), ck = test::dhchap_key_text(3, 64, 9);
    auto host_key = add("host", hk), ctrl_key = add("ctrl", ck);
    const auto hs = secret(hk), cs = secret(ck);
    for (uint8_t d = hash_id::sha256; d <= hash_id::sha512; ++d) {
        for (uint8_t g = dhgroup_id::null; g <= dhgroup_id::ffdhe8192; ++g) {
            if (g >= dhgroup_id::ffdhe4096 && d != hash_id::sha512) continue;  // keep it quick
            for (bool two_way : {false, true}) {
                target_session t({hostnqn, subnqn, all_digests, all_dhgroups, host_key, ctrl_key});
                host_params hp{hostnqn, subnqn, &hs, two_way ? &cs : nullptr};
                hp.digests = {d};
                hp.dhgroups = {g};
                hp.t_id = static_cast<uint16_t>(d * 16 + g);
                host_session h(hp);
                auto o = run(t, h);
                SCOPED_TRACE(std::string(hash_name(d)) + " " + dhgroup_name(g) +
                             (two_way ? " two-way" : " one-way") + ": " + t.last_error());
                EXPECT_EQ(o.target, state::completed);
                EXPECT_TRUE(o.host_done);
                EXPECT_FALSE(o.host_failed);
                EXPECT_EQ(o.hash, d);
                EXPECT_EQ(o.dhgroup, g);
                EXPECT_EQ(t.bidirectional(), two_way);
            }
        }
    }
}

TEST_F(dhchap_session, controller_picks_the_strongest_both_allow) {
    const std::string hk = test::dhchap_key_text(0, 48, 1);
    auto host_key = add("host", hk);
    const auto hs = secret(hk);
    target_session t({hostnqn, subnqn, (1u << hash_id::sha256) | (1u << hash_id::sha384),
                      (1u << dhgroup_id::null) | (1u << dhgroup_id::ffdhe2048), host_key, nullptr});
    host_session h({hostnqn, subnqn, &hs, nullptr});  // offers everything
    auto o = run(t, h);
    EXPECT_EQ(o.target, state::completed);
    EXPECT_EQ(o.hash, hash_id::sha384);
    EXPECT_EQ(o.dhgroup, dhgroup_id::ffdhe2048);
}

TEST_F(dhchap_session, wrong_host_key_is_failed) {
    auto host_key = add("host", test::dhchap_key_text(1, 32, 3));
    const auto wrong = secret(test::dhchap_key_text(1, 32, 4));
    for (uint8_t g : {dhgroup_id::null, dhgroup_id::ffdhe2048}) {
        target_session t({hostnqn, subnqn, all_digests, all_dhgroups, host_key, nullptr});
        host_params hp{hostnqn, subnqn, &wrong, nullptr};
        hp.dhgroups = {g};
        host_session h(hp);
        auto o = run(t, h);
        EXPECT_EQ(o.target, state::failed);
        EXPECT_EQ(o.target_reason, rce::failed);
        EXPECT_TRUE(o.host_failed);  // it read AUTH_Failure1
        EXPECT_EQ(o.host_reason, rce::failed);
        EXPECT_NE(t.last_error().find("does not match"), std::string::npos);
    }
}

TEST_F(dhchap_session, same_secret_for_another_host_nqn_is_failed) {
    // The transformation binds a key to its NQN: a DHHC-1:01 secret stolen
    // from one host does not authenticate another.
    const std::string hk = test::dhchap_key_text(1, 32, 3);
    auto host_key = add("host", hk);
    const auto hs = secret(hk);
    target_session t({hostnqn, subnqn, all_digests, all_dhgroups, host_key, nullptr});
    host_session h({"nqn.2014-08.org.nvmexpress:uuid:99999999-2222-3333-4444-555555555555", subnqn,
                    &hs, nullptr});
    EXPECT_EQ(run(t, h).target, state::failed);
}

TEST_F(dhchap_session, wrong_controller_key_is_caught_by_the_host) {
    const std::string hk = test::dhchap_key_text(2, 48, 3);
    auto host_key = add("host", hk), ctrl_key = add("ctrl", test::dhchap_key_text(2, 48, 5));
    const auto hs = secret(hk), other = secret(test::dhchap_key_text(2, 48, 6));
    target_session t({hostnqn, subnqn, all_digests, all_dhgroups, host_key, ctrl_key});
    host_session h({hostnqn, subnqn, &hs, &other});
    auto o = run(t, h);
    EXPECT_TRUE(o.host_failed);
    EXPECT_EQ(o.host_reason, rce::failed);
    // The host said so with AUTH_Failure2: the controller closes the queue.
    EXPECT_EQ(o.target, state::failed);
}

TEST_F(dhchap_session, two_way_without_a_controller_key_is_failed) {
    const std::string hk = test::dhchap_key_text(1, 32, 3);
    auto host_key = add("host", hk);
    const auto hs = secret(hk), cs = secret(test::dhchap_key_text(1, 32, 8));
    target_session t({hostnqn, subnqn, all_digests, all_dhgroups, host_key, nullptr});
    host_session h({hostnqn, subnqn, &hs, &cs});
    auto o = run(t, h);
    EXPECT_EQ(o.target, state::failed);
    EXPECT_EQ(o.target_reason, rce::failed);
    EXPECT_TRUE(o.host_failed);
}

TEST_F(dhchap_session, removed_key_is_failed) {
    const std::string hk = test::dhchap_key_text(1, 32, 3);
    auto host_key = add("host", hk);
    const auto hs = secret(hk);
    ASSERT_TRUE(store.remove_key("host"));
    target_session t({hostnqn, subnqn, all_digests, all_dhgroups, host_key, nullptr});
    host_session h({hostnqn, subnqn, &hs, nullptr});
    auto o = run(t, h);
    EXPECT_EQ(o.target, state::failed);
    EXPECT_NE(t.last_error().find("removed"), std::string::npos);
}

TEST_F(dhchap_session, negotiation_refusals) {
    auto host_key = add("host", test::dhchap_key_text(1, 32, 3));
    auto failure_for = [&](const std::vector<uint8_t>& msg, uint32_t digests = all_digests,
                           uint32_t groups = all_dhgroups) -> int {
        target_session t({hostnqn, subnqn, digests, groups, host_key, nullptr});
        t.on_send(msg);
        auto f = parse_failure1(t.on_recv(4096));
        EXPECT_TRUE(t.failed());
        return f ? f->rce : -1;
    };
    const uint8_t all_h[] = {1, 2, 3}, all_g[] = {0, 1, 2, 3, 4, 5}, only256[] = {1},
                  only_null[] = {0};
    EXPECT_EQ(failure_for(build_negotiate(1, spec::auth_scc::new_tls_psk, all_h, all_g)),
              rce::scc_mismatch);
    EXPECT_EQ(failure_for(build_negotiate(1, 0, only256, all_g), 1u << hash_id::sha512),
              rce::hash_unusable);
    EXPECT_EQ(failure_for(build_negotiate(1, 0, all_h, only_null), all_digests,
                          1u << dhgroup_id::ffdhe2048),
              rce::dhgroup_unusable);
    auto msg = build_negotiate(1, 0, all_h, all_g);
    msg[8] = 0x02;  // AUTHID: not DH-HMAC-CHAP
    EXPECT_EQ(failure_for(msg), rce::protocol_unusable);
    msg = build_negotiate(1, 0, all_h, all_g);
    msg.pop_back();  // truncated
    EXPECT_EQ(failure_for(msg), rce::incorrect_payload);
    msg = build_negotiate(1, 0, all_h, all_g);
    msg[7] = 2;  // NAPD says two descriptors, one follows
    EXPECT_EQ(failure_for(msg), rce::incorrect_payload);
    msg = build_negotiate(1, 0, all_h, all_g);
    msg[10] = 31;  // HALEN beyond the list
    EXPECT_EQ(failure_for(msg), rce::incorrect_payload);
    EXPECT_EQ(failure_for({0x00, 0x00, 0x00}), rce::incorrect_payload);  // not even a header
    // A reply (or anything else) first is out of sequence.
    std::vector<uint8_t> rval(32, 0);
    EXPECT_EQ(failure_for(build_reply(1, rval, false, {}, 0, {})), rce::incorrect_protocol_message);
    EXPECT_EQ(failure_for(build_success2(1)), rce::incorrect_protocol_message);
    EXPECT_EQ(failure_for(build_failure(spec::auth_id::failure2, 1, rce::failed)),
              rce::incorrect_protocol_message);
    EXPECT_EQ(failure_for({0x07, 0x09, 0, 0, 1, 0, 0, 0}), rce::incorrect_protocol_message);
}

TEST_F(dhchap_session, replayed_reply_is_refused) {
    const std::string hk = test::dhchap_key_text(1, 32, 3);
    auto host_key = add("host", hk);
    const auto hs = secret(hk);
    for (uint8_t g : {dhgroup_id::null, dhgroup_id::ffdhe2048}) {
        host_params hp{hostnqn, subnqn, &hs, nullptr};
        hp.dhgroups = {g};
        hp.t_id = 7;
        // A transaction an eavesdropper watched.
        target_session t1({hostnqn, subnqn, all_digests, all_dhgroups, host_key, nullptr});
        host_session h1(hp);
        t1.on_send(h1.negotiate());
        auto reply = h1.on_challenge(t1.on_recv(4096)).send;
        t1.on_send(reply);
        ASSERT_EQ(t1.current(), state::success1);
        // Replayed into a new transaction (same T_ID): the challenge is new,
        // the old response does not answer it.
        target_session t2({hostnqn, subnqn, all_digests, all_dhgroups, host_key, nullptr});
        t2.on_send(h1.negotiate());
        ASSERT_FALSE(t2.on_recv(4096).empty());
        t2.on_send(reply);
        EXPECT_EQ(t2.current(), state::failure1);
        EXPECT_EQ(t2.failure_reason(), rce::failed);
        // Replayed into the same transaction once it moved on: out of sequence.
        t1.on_send(reply);
        EXPECT_EQ(t1.current(), state::failure1);
        EXPECT_EQ(t1.failure_reason(), rce::incorrect_protocol_message);
        auto f = parse_failure1(t1.on_recv(4096));
        ASSERT_TRUE(f);
        EXPECT_EQ(f->rce, rce::incorrect_protocol_message);
        EXPECT_EQ(f->t_id, 7);
        EXPECT_TRUE(t1.failed());
    }
}

TEST_F(dhchap_session, malformed_replies_are_incorrect_payload) {
    const std::string hk = test::dhchap_key_text(1, 32, 3);
    auto host_key = add("host", hk);
    const auto hs = secret(hk);
    auto reason_for = [&](uint8_t g, auto mutate) {
        host_params hp{hostnqn, subnqn, &hs, nullptr};
        hp.dhgroups = {g};
        hp.digests = {hash_id::sha256};
        hp.t_id = 3;
        target_session t({hostnqn, subnqn, all_digests, all_dhgroups, host_key, nullptr});
        host_session h(hp);
        t.on_send(h.negotiate());
        auto reply = h.on_challenge(t.on_recv(4096)).send;
        mutate(reply);
        t.on_send(reply);
        return t.current() == state::failure1 ? t.failure_reason() : uint8_t{0};
    };
    // Truncated by one byte, or cut after the header.
    EXPECT_EQ(reason_for(0, [](auto& r) { r.pop_back(); }), rce::incorrect_payload);
    EXPECT_EQ(reason_for(1, [](auto& r) { r.resize(16); }), rce::incorrect_payload);
    EXPECT_EQ(reason_for(0, [](auto& r) { r.push_back(0); }), rce::incorrect_payload);
    // HL of another hash.
    EXPECT_EQ(reason_for(0, [](auto& r) { r[6] = 48; }), rce::incorrect_payload);
    // Another transaction.
    EXPECT_EQ(reason_for(0, [](auto& r) { r[4] = 4; }), rce::incorrect_payload);
    // CVALID not 0 or 1; CVALID with SEQNUM 0.
    EXPECT_EQ(reason_for(0, [](auto& r) { r[8] = 2; }), rce::incorrect_payload);
    EXPECT_EQ(reason_for(0, [](auto& r) { r[8] = 1; }), rce::incorrect_payload);
    // A DH value for the null group (length fields consistent).
    EXPECT_EQ(reason_for(0,
                         [](auto& r) {
                             r[10] = 4;
                             r.insert(r.end(), 4, 0x55);
                         }),
              rce::incorrect_payload);
    // ffdhe2048: a DH value of the wrong length, or a weak one (1).
    EXPECT_EQ(reason_for(1,
                         [](auto& r) {
                             r.pop_back();
                             r[10] = static_cast<uint8_t>(255);
                         }),
              rce::incorrect_payload);
    EXPECT_EQ(reason_for(1,
                         [](auto& r) {
                             std::fill(r.end() - 256, r.end(), 0);
                             r.back() = 1;
                         }),
              rce::failed);
    // One bit of the response.
    EXPECT_EQ(reason_for(1, [](auto& r) { r[16] ^= 1; }), rce::failed);
    // The untouched reply passes.
    EXPECT_EQ(reason_for(1, [](auto&) {}), 0);
}

TEST_F(dhchap_session, receive_out_of_sequence_and_short_allocations) {
    auto host_key = add("host", test::dhchap_key_text(1, 32, 3));
    const uint8_t all_h[] = {1, 2, 3}, only2048[] = {1};
    {
        target_session t({hostnqn, subnqn, all_digests, all_dhgroups, host_key, nullptr});
        auto f = parse_failure1(t.on_recv(4096));  // nothing negotiated yet
        ASSERT_TRUE(f);
        EXPECT_EQ(f->rce, rce::incorrect_protocol_message);
    }
    {
        // The challenge (16 + 64 + 256 bytes) does not fit in 128: Failure1 does.
        target_session t({hostnqn, subnqn, all_digests, all_dhgroups, host_key, nullptr});
        t.on_send(build_negotiate(1, 0, all_h, only2048));
        auto f = parse_failure1(t.on_recv(128));
        ASSERT_TRUE(f);
        EXPECT_EQ(f->rce, rce::incorrect_payload);
    }
    {
        // Not even Failure1 fits: nothing is returned, the queue is to be closed.
        target_session t({hostnqn, subnqn, all_digests, all_dhgroups, host_key, nullptr});
        t.on_send(build_negotiate(1, 0, all_h, only2048));
        EXPECT_TRUE(t.on_recv(4).empty());
        EXPECT_TRUE(t.failed());
    }
    {
        // A second AUTH_Receive for the same challenge.
        target_session t({hostnqn, subnqn, all_digests, all_dhgroups, host_key, nullptr});
        t.on_send(build_negotiate(1, 0, all_h, only2048));
        EXPECT_TRUE(parse_challenge(t.on_recv(4096)));
        auto f = parse_failure1(t.on_recv(4096));
        ASSERT_TRUE(f);
        EXPECT_EQ(f->rce, rce::incorrect_protocol_message);
    }
}

TEST_F(dhchap_session, host_refuses_bad_challenges) {
    const auto hs = secret(test::dhchap_key_text(1, 32, 3));
    host_params hp{hostnqn, subnqn, &hs, nullptr};
    hp.digests = {hash_id::sha256};
    hp.dhgroups = {dhgroup_id::null};
    hp.t_id = 9;
    std::vector<uint8_t> c32(32, 1), c64(64, 1), dh(256, 2);
    auto check = [&](const std::vector<uint8_t>& msg, uint8_t reason) {
        host_session h(hp);
        auto s = h.on_challenge(msg);
        EXPECT_TRUE(s.failed);
        EXPECT_EQ(s.reason, reason) << s.why;
        // The host tells the controller with AUTH_Failure2.
        auto f = parse_failure2(s.send);
        ASSERT_TRUE(f);
        EXPECT_EQ(f->rce, reason);
    };
    check(build_challenge(8, hash_id::sha256, 0, 5, c32, {}), rce::incorrect_payload);  // T_ID
    check(build_challenge(9, hash_id::sha512, 0, 5, c64, {}), rce::hash_unusable);  // not offered
    check(build_challenge(9, hash_id::sha256, 1, 5, c32, dh), rce::dhgroup_unusable);
    check(build_challenge(9, hash_id::sha256, 0, 0, c32, {}), rce::incorrect_payload);  // SEQNUM 0
    auto trunc = build_challenge(9, hash_id::sha256, 0, 5, c32, {});
    trunc.resize(40);
    check(trunc, rce::incorrect_payload);
    check(build_success2(9), rce::incorrect_protocol_message);
    // Failure1 from the controller ends it with no answer.
    host_session h(hp);
    auto s = h.on_challenge(build_failure(spec::auth_id::failure1, 9, rce::hash_unusable));
    EXPECT_TRUE(s.failed);
    EXPECT_EQ(s.reason, rce::hash_unusable);
    EXPECT_TRUE(s.send.empty());
    // Padding after a challenge is allowed (Linux returns the whole allocation).
    auto padded = build_challenge(9, hash_id::sha256, 0, 5, c32, {});
    padded.resize(4096);
    host_session h2(hp);
    EXPECT_FALSE(h2.on_challenge(padded).failed);
}

}  // namespace
}  // namespace nvmf::auth
