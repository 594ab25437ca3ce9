// DH-HMAC-CHAP cryptography against known answers (tests/unit/dhchap_vectors.hpp
// says where each comes from): secret transformation, FFDHE-2048 public values
// and shared secret, augmented challenge and response values, both directions.
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "auth/dhchap_crypto.hpp"
#include "dhchap_vectors.hpp"
#include "keyring/dhchap_secret.hpp"
#include "test_bytes.hpp"

namespace nvmf::auth {
namespace {

using nvmf::test::unhex;

std::vector<uint8_t> counting(size_t n, uint8_t first = 0) {
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(first + i);
    return v;
}

std::vector<uint8_t> to_vec(std::span<const uint8_t> s) { return {s.begin(), s.end()}; }

std::span<const uint8_t> bytes(const char* s) {
    return {reinterpret_cast<const uint8_t*>(s), std::strlen(s)};
}

keyring::dhchap_secret secret_of(size_t len, uint8_t hash) {
    auto raw = counting(len);
    return {hash, keyring::secure_bytes(raw.data(), raw.size())};
}

TEST(dhchap_ids, spdk_names_and_lengths) {
    EXPECT_STREQ(hash_name(hash_id::sha256), "sha256");
    EXPECT_STREQ(hash_name(hash_id::sha384), "sha384");
    EXPECT_STREQ(hash_name(hash_id::sha512), "sha512");
    EXPECT_EQ(hash_name(0), nullptr);
    EXPECT_EQ(hash_name(4), nullptr);
    EXPECT_EQ(hash_len(hash_id::sha256), 32u);
    EXPECT_EQ(hash_len(hash_id::sha384), 48u);
    EXPECT_EQ(hash_len(hash_id::sha512), 64u);
    EXPECT_EQ(hash_len(0), 0u);
    EXPECT_EQ(hash_from_name("sha384"), hash_id::sha384);
    EXPECT_FALSE(hash_from_name("SHA256"));
    EXPECT_FALSE(hash_from_name("md5"));
    const char* groups[] = {"null",      "ffdhe2048", "ffdhe3072",
                            "ffdhe4096", "ffdhe6144", "ffdhe8192"};
    const size_t lens[] = {0, 256, 384, 512, 768, 1024};
    for (uint8_t i = 0; i < 6; ++i) {
        EXPECT_STREQ(dhgroup_name(i), groups[i]);
        EXPECT_EQ(dhgroup_from_name(groups[i]), i);
        EXPECT_EQ(dhgroup_len(i), lens[i]);
    }
    EXPECT_EQ(dhgroup_name(6), nullptr);
    EXPECT_FALSE(dhgroup_from_name("ffdhe1024"));
}

// nvme-cli prints the transformed secret: our transform of the same secret
// for the same NQN must give those bytes.
TEST(dhchap_crypto, transform_key_matches_nvme_cli) {
    const char* cli[4] = {nullptr, kat::nvme_cli_01_32, kat::nvme_cli_02_48, kat::nvme_cli_03_64};
    for (uint8_t h = 1; h <= 3; ++h) {
        auto printed = keyring::parse_dhchap_secret(bytes(cli[h]));
        ASSERT_TRUE(printed) << printed.err().message;
        auto t = transform_key(secret_of(hash_len(h), h), kat::host_nqn);
        ASSERT_TRUE(t) << t.err().message;
        EXPECT_EQ(to_vec(t->span()), to_vec(printed->secret.span())) << "hash " << int(h);
        EXPECT_EQ(to_vec(t->span()), unhex(kat::responses[h].host_key));
        auto c = transform_key(secret_of(hash_len(h), h), kat::sub_nqn);
        ASSERT_TRUE(c);
        EXPECT_EQ(to_vec(c->span()), unhex(kat::responses[h].ctrl_key));
    }
    // Hash 0: the secret is the key.
    auto t0 = transform_key(secret_of(48, 0), kat::host_nqn);
    ASSERT_TRUE(t0);
    EXPECT_EQ(to_vec(t0->span()), counting(48));
    // Any transform hash with any secret length (SHA-512 of a 32-byte secret).
    auto t3 = transform_key(secret_of(32, 3), kat::host_nqn);
    ASSERT_TRUE(t3);
    EXPECT_EQ(t3->size(), 64u);
}

TEST(dhchap_crypto, ffdhe2048_known_answer) {
    const std::vector<uint8_t> x(32, 0x11), y(32, 0x22);
    auto kx = dh_key::from_private(dhgroup_id::ffdhe2048, x);
    auto ky = dh_key::from_private(dhgroup_id::ffdhe2048, y);
    ASSERT_TRUE(kx) << kx.err().message;
    ASSERT_TRUE(ky) << ky.err().message;
    auto px = kx->public_value();
    auto py = ky->public_value();
    ASSERT_TRUE(px && py);
    EXPECT_EQ(*px, unhex(kat::ffdhe2048_pub_x));
    EXPECT_EQ(*py, unhex(kat::ffdhe2048_pub_y));
    auto sx = kx->shared_secret(*py);
    auto sy = ky->shared_secret(*px);
    ASSERT_TRUE(sx) << sx.err().message;
    ASSERT_TRUE(sy) << sy.err().message;
    EXPECT_EQ(to_vec(sx->span()), unhex(kat::ffdhe2048_secret));
    EXPECT_EQ(to_vec(sy->span()), unhex(kat::ffdhe2048_secret));
}

TEST(dhchap_crypto, generated_keys_agree_in_every_group) {
    for (uint8_t g = dhgroup_id::ffdhe2048; g <= dhgroup_id::ffdhe8192; ++g) {
        auto a = dh_key::generate(g);
        auto b = dh_key::generate(g);
        ASSERT_TRUE(a && b) << dhgroup_name(g);
        auto pa = a->public_value();
        auto pb = b->public_value();
        ASSERT_TRUE(pa && pb);
        EXPECT_EQ(pa->size(), dhgroup_len(g));
        auto sa = a->shared_secret(*pb);
        auto sb = b->shared_secret(*pa);
        ASSERT_TRUE(sa && sb) << dhgroup_name(g);
        EXPECT_EQ(to_vec(sa->span()), to_vec(sb->span()));
        EXPECT_EQ(sa->size(), dhgroup_len(g));
    }
    EXPECT_FALSE(dh_key::generate(dhgroup_id::null));
    EXPECT_FALSE(dh_key::generate(9));
}

// A peer value that is not in the group's range, or not the group's length,
// is refused: never a secret an attacker can predict (y = 0, 1, p - 1, p).
TEST(dhchap_crypto, weak_or_malformed_peer_values_are_refused) {
    auto k = dh_key::generate(dhgroup_id::ffdhe2048);
    ASSERT_TRUE(k);
    std::vector<uint8_t> v(256, 0);
    EXPECT_FALSE(k->shared_secret(v));  // 0
    v[255] = 1;
    EXPECT_FALSE(k->shared_secret(v));  // 1
    auto pk = k->public_value();
    ASSERT_TRUE(pk);
    EXPECT_FALSE(k->shared_secret(std::span<const uint8_t>(*pk).first(255)));  // short
    std::vector<uint8_t> longer(*pk);
    longer.push_back(0);
    EXPECT_FALSE(k->shared_secret(longer));
    // p itself and p - 1 (RFC 7919: p ends in 64 one bits, starts with 64).
    std::vector<uint8_t> p(256, 0xff);
    EXPECT_FALSE(k->shared_secret(p));  // > p - 1
    auto p_hex = unhex(
        "ffffffffffffffffadf85458a2bb4a9aafdc5620273d3cf1d8b9c583ce2d3695a9e13641146433fbcc939dce"
        "249b3ef97d2fe363630c75d8f681b202aec4617ad3df1ed5d5fd65612433f51f5f066ed0856365553ded1af3"
        "b557135e7f57c935984f0c70e0e68b77e2a689daf3efe8721df158a136ade73530acca4f483a797abc0ab182"
        "b324fb61d108a94bb2c8e3fbb96adab760d7f4681d4f42a3de394df4ae56ede76372bb190b07a7c8ee0a6d70"
        "9e02fce1cdf7e2ecc03404cd28342f619172fe9ce98583ff8e4f1232eef28183c3fe3b1b4c6fad733bb5fcbc"
        "2ec22005c58ef1837d1683b2c6f34a26c1b2effa886b423861285c97ffffffffffffffff");
    ASSERT_EQ(p_hex.size(), 256u);
    EXPECT_FALSE(k->shared_secret(p_hex));
    p_hex[255] = 0xfe;  // p - 1
    EXPECT_FALSE(k->shared_secret(p_hex));
}

TEST(dhchap_crypto, responses_match_known_answers) {
    auto secret = unhex(kat::ffdhe2048_secret);
    for (uint8_t h = 1; h <= 3; ++h) {
        const size_t hl = hash_len(h);
        const auto& v = kat::responses[h];
        const auto host_key = unhex(v.host_key), ctrl_key = unhex(v.ctrl_key);
        const auto challenge = counting(hl, 0x80);
        response_params p;
        p.hash = h;
        p.challenge = challenge;
        p.seqnum = 0x01020304;
        p.tid = 0x0506;
        p.label = "HostHost";
        p.nqn1 = kat::host_nqn;
        p.nqn2 = kat::sub_nqn;
        std::vector<uint8_t> out(hl);
        ASSERT_TRUE(compute_response(host_key, p, out));
        EXPECT_EQ(out, unhex(v.host_response_null)) << "hash " << int(h);
        p.dh_secret = secret;
        ASSERT_TRUE(compute_response(host_key, p, out));
        EXPECT_EQ(out, unhex(v.host_response_dh)) << "hash " << int(h);

        response_params c = p;
        c.seqnum = 0xa0b0c0d0;
        c.label = "Controller";
        c.nqn1 = kat::sub_nqn;
        c.nqn2 = kat::host_nqn;
        ASSERT_TRUE(compute_response(ctrl_key, c, out));
        EXPECT_EQ(out, unhex(v.ctrl_response_dh)) << "hash " << int(h);

        // Each input changes the value.
        std::vector<uint8_t> other(hl);
        response_params q = p;
        q.tid = 0x0507;
        ASSERT_TRUE(compute_response(host_key, q, other));
        EXPECT_NE(other, unhex(v.host_response_dh));
        q = p;
        q.scc = 1;
        ASSERT_TRUE(compute_response(host_key, q, other));
        EXPECT_NE(other, unhex(v.host_response_dh));
    }
}

TEST(dhchap_crypto, length_mismatches_are_errors) {
    std::vector<uint8_t> key(32, 1), chal(32, 2), out(48);
    response_params p;
    p.hash = hash_id::sha256;
    p.challenge = chal;
    p.label = "HostHost";
    EXPECT_FALSE(compute_response(key, p, out));  // out is not 32 bytes
    out.resize(32);
    EXPECT_TRUE(compute_response(key, p, out));
    p.hash = 7;
    EXPECT_FALSE(compute_response(key, p, out));
    p.hash = hash_id::sha384;  // challenge is 32 bytes, not 48
    out.resize(48);
    EXPECT_FALSE(compute_response(key, p, out));
}

}  // namespace
}  // namespace nvmf::auth
