// Known-answer tests for the NVMe/TCP PSK interchange format and the TLS PSK
// derivations (src/keyring/tls_psk). Where each vector comes from:
//  - libnvme (linux-nvme/libnvme test/psk.c): the interchange strings of a
//    32- and a 48-byte key with hash 00/01/02, and the NVMe1R identities of
//    those keys for nqn.psk-test-host / nqn.psk-test-subsys. The NVMe1R
//    digest is an HMAC of the retained PSK, so these check the retained PSK
//    derivation and the digest against libnvme.
//  - SPDK (include/spdk_internal/nvme_tcp.h at the peer's commit 3230130e6a):
//    its nvme_tcp_parse_interchange_psk, nvme_tcp_derive_retained_psk,
//    nvme_tcp_generate_psk_identity and nvme_tcp_derive_tls_psk, run on the
//    same keys by tests/kat/spdk_tls_psk_kat.c: the retained PSKs and the
//    NVMe0R TLS PSKs SPDK's host and target hand to OpenSSL.
//  - nvme-cli 2.3 (Debian 12): keys made by `nvme gen-tls-key --hmac=1|2` with
//    the CRC `nvme check-tls-key` printed for them.
//  - tests/kat/nvme_psk_hkdf.py, an independent RFC 5869/8446 HKDF in Python:
//    the NVMe1R TLS PSKs (no other implementation here speaks NVMe1R); the
//    same script reproduces every SPDK and libnvme vector above.
#include <gtest/gtest.h>

#include "keyring/tls_psk.hpp"
#include "test_bytes.hpp"

namespace kr = nvmf::keyring;

namespace {

using nvmf::test::hex;
using nvmf::test::unhex;

const std::string key32_hex = "5512dbb6737d0106f65975b773dfb011ffc344bcf442e2dd6d8bc4870b5d5b03";
const std::string key48_hex = key32_hex + "ffc344bcf442e2dd6d8bc4870b5d5b03";

const char* libnvme_00 = "NVMeTLSkey-1:00:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:";
const char* libnvme_01 = "NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:";
const char* libnvme_02 =
    "NVMeTLSkey-1:02:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwP/w0S89ELi3W2LxIcLXVsDn8kXZQ==:";

const char* spdk_host = "nqn.2016-06.io.spdk:host1";
const char* spdk_sub = "nqn.2016-06.io.spdk:cnode1";

kr::configured_psk parse(const char* text) {
    auto p = kr::parse_interchange(text);
    EXPECT_TRUE(p) << p.err().message;
    return p ? std::move(*p) : kr::configured_psk{};
}

}  // namespace

TEST(TlsPsk, Crc32IsZlibCrc) {
    const std::string s = "123456789";
    EXPECT_EQ(kr::interchange_crc({reinterpret_cast<const uint8_t*>(s.data()), s.size()}),
              0xCBF43926u);
}

TEST(TlsPsk, Base64RoundTripAndStrictness) {
    const std::vector<uint8_t> b = {0xff, 0x00, 0x10, 0x20};
    EXPECT_EQ(kr::base64_encode(b), "/wAQIA==");
    auto d = kr::base64_decode("/wAQIA==");
    ASSERT_TRUE(d);
    EXPECT_EQ(hex(d->span()), "ff001020");
    EXPECT_FALSE(kr::base64_decode("/wAQIA="));   // length
    EXPECT_FALSE(kr::base64_decode("/w=QIA=="));  // padding inside
    EXPECT_FALSE(kr::base64_decode("/wAQ IA="));  // not base64
    EXPECT_FALSE(kr::base64_decode(""));
}

// libnvme test/psk.c: export and import of the same key with hash 00, 01, 02.
TEST(TlsPsk, InterchangeLibnvmeVectors) {
    const auto k32 = unhex(key32_hex), k48 = unhex(key48_hex);
    EXPECT_EQ(*kr::format_interchange(kr::psk_hash::none, k32), libnvme_00);
    EXPECT_EQ(*kr::format_interchange(kr::psk_hash::sha256, k32), libnvme_01);
    EXPECT_EQ(*kr::format_interchange(kr::psk_hash::sha384, k48), libnvme_02);

    auto p0 = parse(libnvme_00);
    EXPECT_EQ(p0.hash, kr::psk_hash::none);
    EXPECT_EQ(hex(p0.key.span()), key32_hex);
    EXPECT_EQ(p0.cipher(), kr::tls_cipher::aes_128_gcm_sha256);
    auto p1 = parse(libnvme_01);
    EXPECT_EQ(p1.hash, kr::psk_hash::sha256);
    EXPECT_EQ(hex(p1.key.span()), key32_hex);
    auto p2 = parse(libnvme_02);
    EXPECT_EQ(p2.hash, kr::psk_hash::sha384);
    EXPECT_EQ(hex(p2.key.span()), key48_hex);
    EXPECT_EQ(p2.cipher(), kr::tls_cipher::aes_256_gcm_sha384);
}

// Keys from nvme-cli 2.3's gen-tls-key; the CRC is what check-tls-key printed.
TEST(TlsPsk, InterchangeNvmeCliKeys) {
    struct v {
        const char* key;
        kr::psk_hash hash;
        size_t len;
        uint32_t crc;
    };
    const v vs[] = {
        {"NVMeTLSkey-1:01:Vqpuh/pRESuNG9/2yUBuJemPNr1mCf6whRGWlMd3wsyylNYi:", kr::psk_hash::sha256,
         32, 0x22d694b2},
        {"NVMeTLSkey-1:02:FrLb0xtaTL8/D4kyh/UioUSxDWzdcLy/KxCdECi0PK94+ryIX/"
         "v014FasnoP3XfoADZLJA==:",
         kr::psk_hash::sha384, 48, 0x244b3600},
        {"NVMeTLSkey-1:01:wz8JdLw+ztyzWOjT/YgkTbswnpXWfCwNdSOD1BWhNGvGj9Mc:", kr::psk_hash::sha256,
         32, 0x1cd38fc6},
        {"NVMeTLSkey-1:02:+hNqA0jooCf1W/yTqaE/iO/ZQl623Re0KGbOrQGww2JPSlqZUDwcEYlHd63HuFd+"
         "tEnSvw==:",
         kr::psk_hash::sha384, 48, 0xbfd249b4},
        // check-tls-key on libnvme's 01 vector: "CRC d9baf45f".
        {libnvme_01, kr::psk_hash::sha256, 32, 0xd9baf45f},
    };
    for (const auto& t : vs) {
        auto p = kr::parse_interchange(t.key);
        ASSERT_TRUE(p) << t.key << ": " << p.err().message;
        EXPECT_EQ(p->hash, t.hash);
        EXPECT_EQ(p->key.size(), t.len);
        EXPECT_EQ(kr::interchange_crc(p->key.span()), t.crc) << t.key;
        EXPECT_EQ(*kr::format_interchange(p->hash, p->key.span()), t.key);
    }
}

TEST(TlsPsk, InterchangeRejectsBadKeys) {
    const char* bad[] = {
        "",
        "NVMeTLSkey-1:01:",
        "NVMeTLSkey-2:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:",  // version
        "NVMeTLSkey-1:03:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:",  // hash
        "NVMeTLSkey-1:1:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:",   // hash digits
        "NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ",   // final ':'
        // check-tls-key: "CRC mismatch (key d7baf45f, crc d9baf45f)" for this one
        "NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrX:",
        // a 48-byte key with hash 01 and a 32-byte one with 02
        "NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwP/w0S89ELi3W2LxIcLXVsDn8kXZQ==:",
        "NVMeTLSkey-1:02:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:",
        "NVMeTLSkey-1:01:AAAA:",  // too short
        "NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYv%hwtdWwNf9LrZ:",
    };
    for (const char* k : bad) {
        auto p = kr::parse_interchange(k);
        EXPECT_FALSE(p) << "accepted " << k;
        // The error never echoes the key.
        if (!p && std::string(k).size() > 20) {
            EXPECT_EQ(p.err().message.find(std::string(k).substr(16, 10)), std::string::npos);
        }
    }
    // A key file's trailing newline is fine.
    EXPECT_TRUE(kr::parse_interchange(std::string(libnvme_01) + "\n"));
}

// SPDK's derivations for its own unit test's host and subsystem NQNs
// (tests/kat/spdk_tls_psk_kat.c against the peer's build).
TEST(TlsPsk, RetainedAndTlsPskMatchSpdk) {
    struct v {
        const char* key;
        const char* identity;
        const char* retained;
        const char* tls_psk;
    };
    const v vs[] = {
        {libnvme_01, "NVMe0R01 nqn.2016-06.io.spdk:host1 nqn.2016-06.io.spdk:cnode1",
         "b984602631ba729339562d4d3fed69a588dbbbf14b74d7f3d1dd890093d5f607",
         "f68998173a208526b3e5b21ccca3f7d87c6d229af58bc59a04cc29459caa4ae8"},
        {libnvme_00, "NVMe0R01 nqn.2016-06.io.spdk:host1 nqn.2016-06.io.spdk:cnode1",
         "5512dbb6737d0106f65975b773dfb011ffc344bcf442e2dd6d8bc4870b5d5b03",
         "a2114629fa14f58fb90948fce76766b28ac1f5153787cf25c7bda26ff9d5c7b4"},
        {libnvme_02, "NVMe0R02 nqn.2016-06.io.spdk:host1 nqn.2016-06.io.spdk:cnode1",
         "da97fcab523ec478da4ee538c28cfb7cc57573af5351f456f0b34ed50d7e1af839626918bc280f4970d4b"
         "932062a0a16",
         "67eb5eee2d6cd295d9279c3619462868a47bd80b2800bd80bb8987ba321f7b47fcee109d637878c59f2608"
         "428bcc8cf7"},
    };
    for (const auto& t : vs) {
        auto psk = parse(t.key);
        auto retained = kr::derive_retained_psk(psk, spdk_host);
        ASSERT_TRUE(retained) << retained.err().message;
        EXPECT_EQ(hex(retained->span()), t.retained) << t.key;
        EXPECT_EQ(kr::psk_identity_v0(psk.cipher(), spdk_host, spdk_sub), t.identity);
        auto creds = kr::host_credentials(psk, spdk_host, spdk_sub, 0);
        ASSERT_TRUE(creds) << creds.err().message;
        EXPECT_EQ(creds->identity, t.identity);
        EXPECT_EQ(hex(creds->tls_psk.span()), t.tls_psk) << t.key;
        // The target's side: the identity it receives parsed, the same TLS PSK.
        auto id = kr::parse_psk_identity(t.identity);
        ASSERT_TRUE(id) << id.err().message;
        EXPECT_EQ(id->version, 0);
        EXPECT_EQ(id->hostnqn, spdk_host);
        EXPECT_EQ(id->subnqn, spdk_sub);
        auto tls = kr::derive_tls_psk(*id, t.identity, retained->span());
        ASSERT_TRUE(tls);
        EXPECT_EQ(hex(tls->span()), t.tls_psk);
    }
}

// libnvme's NVMe1R identities (test/psk.c, nvme_generate_tls_key_identity);
// the NVMe1R TLS PSK from tests/kat/nvme_psk_hkdf.py.
TEST(TlsPsk, IdentityV1MatchesLibnvme) {
    struct v {
        const char* key;
        const char* retained;  // SPDK's derivation for these NQNs
        const char* identity;
        const char* tls_psk;
    };
    const v vs[] = {
        {libnvme_01, "073311dec37e219ff3acd43f130130c5bdd443c066e1cc3424e49030234ff7d5",
         "NVMe1R01 nqn.psk-test-host nqn.psk-test-subsys "
         "iSbjiStwJ/1TrTvDlt2fjFmzvsytOJelidNnA+X5lEU=",
         "8fc3c0badfd4c0c66fa3ca33aadd0314f85536cc9bc47338b60f3e6e563786ca"},
        {libnvme_02,
         "73973a1b51a9acdde29a0610ac6a3ef852cf45936cca6830a661d18f68502f1a4c7a8ecb37524e0b1f7087"
         "cb4d680ad9",
         "NVMe1R02 nqn.psk-test-host nqn.psk-test-subsys "
         "QhW2+Rp6RzHlNtCslyRxMnwJ11tKKhz8JCAQpQ+XUD8f9td1VeH5h53yz2wKJG1a",
         "a2b2f943f479fc682555cec89857c80ed004ce92f32a973d5764155bb7e36b17a85368a0666d250afac9282d"
         "da2e62ca"},
    };
    for (const auto& t : vs) {
        auto psk = parse(t.key);
        auto retained = kr::derive_retained_psk(psk, "nqn.psk-test-host");
        ASSERT_TRUE(retained);
        EXPECT_EQ(hex(retained->span()), t.retained);
        auto creds = kr::host_credentials(psk, "nqn.psk-test-host", "nqn.psk-test-subsys", 1);
        ASSERT_TRUE(creds) << creds.err().message;
        EXPECT_EQ(creds->identity, t.identity);
        EXPECT_EQ(hex(creds->tls_psk.span()), t.tls_psk);
        auto id = kr::parse_psk_identity(t.identity);
        ASSERT_TRUE(id);
        EXPECT_EQ(id->version, 1);
        EXPECT_EQ(id->cipher, psk.cipher());
        EXPECT_EQ(id->digest, creds->identity.substr(creds->identity.rfind(' ') + 1));
        auto again = kr::psk_digest(id->cipher, retained->span(), id->hostnqn, id->subnqn);
        ASSERT_TRUE(again);
        EXPECT_EQ(*again, id->digest);
    }
}

TEST(TlsPsk, IdentityV0ForSha384AndDifferentSuitesDiffer) {
    auto p32 = parse(libnvme_01);
    auto p48 = parse(libnvme_02);
    EXPECT_EQ(kr::psk_identity_v0(p48.cipher(), "h", "s"), "NVMe0R02 h s");
    auto a = kr::host_credentials(p32, spdk_host, spdk_sub, 0);
    auto b = kr::host_credentials(p48, spdk_host, spdk_sub, 0);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->tls_psk.size(), 32u);
    EXPECT_EQ(b->tls_psk.size(), 48u);
    EXPECT_EQ(a->cipher, kr::tls_cipher::aes_128_gcm_sha256);
    EXPECT_EQ(b->cipher, kr::tls_cipher::aes_256_gcm_sha384);
    // Another host NQN: another retained PSK, another TLS PSK.
    auto c = kr::host_credentials(p32, "nqn.2016-06.io.spdk:host2", spdk_sub, 0);
    ASSERT_TRUE(c);
    EXPECT_FALSE(c->tls_psk == a->tls_psk);
}

TEST(TlsPsk, ParseIdentityRejectsMalformed) {
    const char* bad[] = {
        "",
        "NVMe0R01",
        "NVMe0R01 ",
        "NVMe0R01 host",
        "NVMe0R01 host ",
        "NVMe0R01 host  sub",
        "NVMe0R01 host sub extra",  // version 0 has no digest
        "NVMe1R01 host sub",        // version 1 needs one
        "NVMe1R01 host sub dig more",
        "NVMe2R01 host sub",
        "NVMe0R03 host sub",
        "NVMe0X01 host sub",
        "nvme0R01 host sub",
        "NVMe0R01_host sub",
    };
    for (const char* s : bad) EXPECT_FALSE(kr::parse_psk_identity(s)) << "accepted '" << s << "'";
    const std::string long_nqn(224, 'a');
    EXPECT_FALSE(kr::parse_psk_identity("NVMe0R01 " + long_nqn + " sub"));
    auto ok = kr::parse_psk_identity("NVMe1R02 h s d");
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->cipher, kr::tls_cipher::aes_256_gcm_sha384);
    EXPECT_EQ(ok->digest, "d");
}

TEST(TlsPsk, SecretBytesCompareAndResize) {
    kr::secret_bytes a(reinterpret_cast<const uint8_t*>("abcd"), 4);
    kr::secret_bytes b = a;
    EXPECT_TRUE(a == b);
    b.resize(2);
    EXPECT_FALSE(a == b);
    EXPECT_EQ(b.size(), 2u);
    kr::secret_bytes c = std::move(a);
    EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): moved-from holds no key bytes
    EXPECT_EQ(c.size(), 4u);
}
