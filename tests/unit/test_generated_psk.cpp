// Known answers for the generated PSK of secure channel concatenation
// (src/auth/generated_psk): the PSK from the session key and both
// challenges, its digest, the NVMe1G identity and the TLS PSK.
//
// Where the vectors come from: the Linux kernel's KUnit test of these
// derivations (drivers/nvme/common/tests/auth_kunit.c: Ks[i] = 'A' + i,
// C1[i] = i, C2[i] = 0xff - i, host "hostnqn", subsystem "subsysnqn"), for
// nvme_auth_generate_psk, nvme_auth_generate_digest and
// nvme_auth_derive_tls_psk. The session key itself (Ks = H(g^xy mod p)) has
// no published vector: it is checked against OpenSSL's one-shot digest and
// HMAC, computed here independently of the code under test, on a real
// ffdhe2048 exchange.
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "auth/dhchap_crypto.hpp"
#include "auth/generated_psk.hpp"
#include "keyring/tls_psk.hpp"
#include "test_bytes.hpp"

namespace nvmf::auth {
namespace {

using nvmf::test::hex;

struct kunit_inputs {
    uint8_t ks[64], c1[64], c2[64];
    kunit_inputs() {
        for (int i = 0; i < 64; ++i) {
            ks[i] = static_cast<uint8_t>('A' + i);
            c1[i] = static_cast<uint8_t>(i);
            c2[i] = static_cast<uint8_t>(0xff - i);
        }
    }
};

struct kunit_vector {
    uint8_t hash;
    const char* psk;
    const char* digest;  // null: no TLS PSK for this hash
    const char* tls_psk;
};

// drivers/nvme/common/tests/auth_kunit.c, as published (byte arrays as hex).
const kunit_vector kunit_vectors[] = {
    {hash_id::sha256, "1733c59fa7f48fcf37f5f26fc4ff0268ad4f78e030f4f3b0bfd1d47e7bb1447a",
     "OldoKuTfKddMuyCznAZojkWD7P4D9/AtzDzLimtOxqI=",
     "3c17da628474a04d2247c4cab47968c915388193f7c071bd9489cc3666cd7cc8"},
    {hash_id::sha384,
     "f14b2dd3234c459694d3bc63f8968bd6b37c2c6de849e22e118749001ce4bbe8"
     "640b9e3a748cb11ce4b1d71d359cce39",
     "cffMWk8TSS7HOQebjgYEIkrPrjWPV4JE5cdPB8WhEvY4JBW5YynKyv66XscN4A9n",
     "2774753233537b3fa50eb7d16a8e43457d85f4906c005b2236616c5d80939d08"
     "98fff15bb8b77119d2be0aac423e7590"},
    {hash_id::sha512,
     "9c9f089a618b47d2d75f4b6c28070424487b445dd96e70c4c09b55e8b6000152"
     "a3363c3454043f38f0b85036ded40655350aa87b8b6a282b5c1acae16233dd5b",
     nullptr, nullptr},
};

TEST(generated_psk, linux_kunit_vectors) {
    const kunit_inputs in;
    for (const auto& v : kunit_vectors) {
        SCOPED_TRACE(hash_name(v.hash));
        const size_t hl = hash_len(v.hash);
        auto psk = generate_psk(v.hash, {in.ks, hl}, {in.c1, hl}, {in.c2, hl});
        ASSERT_TRUE(psk) << psk.err().message;
        EXPECT_EQ(hex(psk->span()), v.psk);
        auto creds = generated_credentials(v.hash, psk->span(), "hostnqn", "subsysnqn");
        if (v.digest == nullptr) {
            // SHA-512 has no NVMe/TCP cipher suite: the kernel refuses too.
            EXPECT_FALSE(creds);
            EXPECT_FALSE(concat_hash_usable(v.hash));
            continue;
        }
        ASSERT_TRUE(creds) << creds.err().message;
        EXPECT_TRUE(concat_hash_usable(v.hash));
        EXPECT_EQ(creds->identity, std::string("NVMe1G0") + std::to_string(v.hash) +
                                       " hostnqn subsysnqn " + v.digest);
        EXPECT_EQ(hex(creds->tls_psk.span()), v.tls_psk);
        EXPECT_EQ(creds->cipher, v.hash == hash_id::sha256
                                     ? keyring::tls_cipher::aes_128_gcm_sha256
                                     : keyring::tls_cipher::aes_256_gcm_sha384);
    }
}

TEST(generated_psk, identity_parses_back_and_derives_the_same) {
    const kunit_inputs in;
    auto psk = generate_psk(hash_id::sha384, {in.ks, 48}, {in.c1, 48}, {in.c2, 48});
    ASSERT_TRUE(psk);
    auto creds = generated_credentials(hash_id::sha384, psk->span(), "nqn.h", "nqn.s");
    ASSERT_TRUE(creds);
    auto id = keyring::parse_psk_identity(creds->identity);
    ASSERT_TRUE(id) << id.err().message;
    EXPECT_TRUE(id->generated);
    EXPECT_EQ(id->version, 1);
    EXPECT_EQ(id->hostnqn, "nqn.h");
    EXPECT_EQ(id->subnqn, "nqn.s");
    EXPECT_EQ(keyring::psk_identity_text(*id), creds->identity);
    auto again = keyring::derive_tls_psk(*id, creds->identity, psk->span());
    ASSERT_TRUE(again);
    EXPECT_TRUE(*again == creds->tls_psk);
    // A configured PSK never answers a generated identity.
    auto hp = keyring::make_host_psk(
        "k", "NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:", "nqn.h");
    ASSERT_TRUE(hp);
    EXPECT_FALSE(keyring::target_tls_psk(*id, creds->identity, *hp));
}

TEST(generated_psk, another_host_or_subsystem_gets_another_identity_and_key) {
    const kunit_inputs in;
    auto psk = generate_psk(hash_id::sha256, {in.ks, 32}, {in.c1, 32}, {in.c2, 32});
    ASSERT_TRUE(psk);
    auto a = generated_credentials(hash_id::sha256, psk->span(), "nqn.h1", "nqn.s");
    auto b = generated_credentials(hash_id::sha256, psk->span(), "nqn.h2", "nqn.s");
    auto c = generated_credentials(hash_id::sha256, psk->span(), "nqn.h1", "nqn.s2");
    ASSERT_TRUE(a && b && c);
    EXPECT_NE(a->identity, b->identity);
    EXPECT_FALSE(a->tls_psk == b->tls_psk);
    EXPECT_FALSE(a->tls_psk == c->tls_psk);
}

// Ks = H(g^xy mod p), and the PSK over it, recomputed with OpenSSL's
// one-shot SHA and HMAC on a real ffdhe2048 exchange. The Linux kernel
// before "nvme-auth: Hash DH shared secret to create session key" keyed the
// HMAC with the raw DH secret instead; since that secret is longer than the
// HMAC block, HMAC hashes it first and both give the same PSK, which the last
// check shows (so older Linux hosts and targets agree with us).
TEST(generated_psk, session_key_is_the_hash_of_the_dh_secret) {
    auto a = dh_key::generate(dhgroup_id::ffdhe2048);
    auto b = dh_key::generate(dhgroup_id::ffdhe2048);
    ASSERT_TRUE(a && b);
    auto pub_b = b->public_value();
    ASSERT_TRUE(pub_b);
    auto secret = a->shared_secret(*pub_b);
    ASSERT_TRUE(secret);
    const kunit_inputs in;
    for (uint8_t h : {hash_id::sha256, hash_id::sha384}) {
        const size_t hl = hash_len(h);
        const EVP_MD* md = h == hash_id::sha256 ? EVP_sha256() : EVP_sha384();
        uint8_t want_ks[64];
        unsigned int len = 0;
        ASSERT_EQ(EVP_Digest(secret->data(), secret->size(), want_ks, &len, md, nullptr), 1);
        auto ks = session_key(h, secret->span());
        ASSERT_TRUE(ks);
        EXPECT_EQ(hex(ks->span()), hex({want_ks, hl}));

        std::vector<uint8_t> msg(in.c1, in.c1 + hl);
        msg.insert(msg.end(), in.c2, in.c2 + hl);
        uint8_t want_psk[64];
        ASSERT_NE(HMAC(md, want_ks, static_cast<int>(hl), msg.data(), msg.size(), want_psk, &len),
                  nullptr);
        auto psk = generate_psk(h, ks->span(), {in.c1, hl}, {in.c2, hl});
        ASSERT_TRUE(psk);
        EXPECT_EQ(hex(psk->span()), hex({want_psk, hl}));

        uint8_t raw_keyed[64];
        ASSERT_NE(HMAC(md, secret->data(), static_cast<int>(secret->size()), msg.data(), msg.size(),
                       raw_keyed, &len),
                  nullptr);
        EXPECT_EQ(hex({raw_keyed, hl}), hex(psk->span()));
    }
    EXPECT_FALSE(session_key(hash_id::sha256, {}));  // the null group has no secret
}

TEST(generated_psk, length_and_hash_errors) {
    const kunit_inputs in;
    EXPECT_FALSE(generate_psk(hash_id::sha256, {in.ks, 32}, {in.c1, 31}, {in.c2, 32}));
    EXPECT_FALSE(generate_psk(0, {in.ks, 32}, {in.c1, 32}, {in.c2, 32}));
    EXPECT_FALSE(generated_credentials(hash_id::sha256, {in.ks, 48}, "h", "s"));
}

}  // namespace
}  // namespace nvmf::auth
