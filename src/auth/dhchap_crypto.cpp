// DH-HMAC-CHAP cryptography on OpenSSL 3 (EVP_MAC HMAC, EVP_Digest, EVP_PKEY
// DH with the RFC 7919 named groups). No primitive is written here.
#include "auth/dhchap_crypto.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/dh.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace nvmf::auth {

namespace {

struct digest_info {
    uint8_t id;
    const char* name;  // SPDK's name, also OpenSSL's digest name
    size_t len;
};
constexpr digest_info digests[] = {
    {hash_id::sha256, "sha256", 32},
    {hash_id::sha384, "sha384", 48},
    {hash_id::sha512, "sha512", 64},
};

struct group_info {
    uint8_t id;
    const char* name;  // SPDK's name, also OpenSSL's group name
    size_t len;
};
constexpr group_info groups[] = {
    {dhgroup_id::null, "null", 0},
    {dhgroup_id::ffdhe2048, "ffdhe2048", 256},
    {dhgroup_id::ffdhe3072, "ffdhe3072", 384},
    {dhgroup_id::ffdhe4096, "ffdhe4096", 512},
    {dhgroup_id::ffdhe6144, "ffdhe6144", 768},
    {dhgroup_id::ffdhe8192, "ffdhe8192", 1024},
};

const digest_info* find_digest(uint8_t id) {
    for (const auto& d : digests) {
        if (d.id == id) return &d;
    }
    return nullptr;
}

const group_info* find_group(uint8_t id) {
    for (const auto& g : groups) {
        if (g.id == id) return &g;
    }
    return nullptr;
}

// The OpenSSL error queue as text (and emptied), for a failure message.
std::string ossl_error(const char* what) {
    std::string s = what;
    unsigned long e;
    char buf[256];
    bool first = true;
    while ((e = ERR_get_error()) != 0) {
        ERR_error_string_n(e, buf, sizeof(buf));
        s += first ? ": " : "; ";
        s += buf;
        first = false;
    }
    return s;
}

error crypto_error(const char* what) { return make_error(-EIO, ossl_error(what)); }

struct mac_ctx {
    EVP_MAC* mac = nullptr;
    EVP_MAC_CTX* ctx = nullptr;
    ~mac_ctx() {
        EVP_MAC_CTX_free(ctx);
        EVP_MAC_free(mac);
    }
};

// An HMAC in progress: init, update..., final.
result<void> hmac_init(mac_ctx& m, uint8_t hash, std::span<const uint8_t> key) {
    const digest_info* d = find_digest(hash);
    if (d == nullptr) return make_error(-EINVAL, "unknown hash " + std::to_string(hash));
    m.mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (m.mac == nullptr) return crypto_error("EVP_MAC_fetch(HMAC)");
    m.ctx = EVP_MAC_CTX_new(m.mac);
    if (m.ctx == nullptr) return crypto_error("EVP_MAC_CTX_new");
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(d->name), 0),
        OSSL_PARAM_construct_end()};
    // HMAC takes an empty key, but OpenSSL wants a non-null pointer for it.
    static const uint8_t none = 0;
    if (EVP_MAC_init(m.ctx, key.empty() ? &none : key.data(), key.size(), params) != 1) {
        return crypto_error("EVP_MAC_init");
    }
    return {};
}

result<void> hmac_update(mac_ctx& m, const void* p, size_t n) {
    if (n != 0 && EVP_MAC_update(m.ctx, static_cast<const uint8_t*>(p), n) != 1) {
        return crypto_error("EVP_MAC_update");
    }
    return {};
}

result<void> hmac_final(mac_ctx& m, std::span<uint8_t> out) {
    size_t len = 0;
    if (EVP_MAC_final(m.ctx, out.data(), &len, out.size()) != 1) {
        return crypto_error("EVP_MAC_final");
    }
    if (len != out.size()) return make_error(-EIO, "HMAC length differs from the hash length");
    return {};
}

struct bn_guard {
    BIGNUM* bn = nullptr;
    ~bn_guard() { BN_clear_free(bn); }
};

struct pkey_ctx_guard {
    EVP_PKEY_CTX* ctx = nullptr;
    ~pkey_ctx_guard() { EVP_PKEY_CTX_free(ctx); }
};

struct param_guard {
    OSSL_PARAM_BLD* bld = nullptr;
    OSSL_PARAM* params = nullptr;
    ~param_guard() {
        OSSL_PARAM_free(params);
        OSSL_PARAM_BLD_free(bld);
    }
};

// A DH key from parameters (group name, pub, optionally priv).
result<EVP_PKEY*> dh_from_data(const group_info& g, const BIGNUM* pub, const BIGNUM* priv) {
    param_guard pg;
    pg.bld = OSSL_PARAM_BLD_new();
    if (pg.bld == nullptr ||
        OSSL_PARAM_BLD_push_utf8_string(pg.bld, OSSL_PKEY_PARAM_GROUP_NAME, g.name, 0) != 1 ||
        OSSL_PARAM_BLD_push_BN(pg.bld, OSSL_PKEY_PARAM_PUB_KEY, pub) != 1 ||
        (priv != nullptr && OSSL_PARAM_BLD_push_BN(pg.bld, OSSL_PKEY_PARAM_PRIV_KEY, priv) != 1)) {
        return crypto_error("OSSL_PARAM_BLD");
    }
    pg.params = OSSL_PARAM_BLD_to_param(pg.bld);
    if (pg.params == nullptr) return crypto_error("OSSL_PARAM_BLD_to_param");
    pkey_ctx_guard c;
    c.ctx = EVP_PKEY_CTX_new_from_name(nullptr, "DH", nullptr);
    if (c.ctx == nullptr || EVP_PKEY_fromdata_init(c.ctx) != 1) {
        return crypto_error("EVP_PKEY_fromdata_init(DH)");
    }
    EVP_PKEY* key = nullptr;
    if (EVP_PKEY_fromdata(c.ctx, &key, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, pg.params) !=
        1) {
        return crypto_error("EVP_PKEY_fromdata(DH)");
    }
    return key;
}

}  // namespace

size_t hash_len(uint8_t id) {
    const digest_info* d = find_digest(id);
    return d ? d->len : 0;
}

const char* hash_name(uint8_t id) {
    const digest_info* d = find_digest(id);
    return d ? d->name : nullptr;
}

std::optional<uint8_t> hash_from_name(std::string_view name) {
    for (const auto& d : digests) {
        if (name == d.name) return d.id;
    }
    return std::nullopt;
}

const char* dhgroup_name(uint8_t id) {
    const group_info* g = find_group(id);
    return g ? g->name : nullptr;
}

std::optional<uint8_t> dhgroup_from_name(std::string_view name) {
    for (const auto& g : groups) {
        if (name == g.name) return g.id;
    }
    return std::nullopt;
}

size_t dhgroup_len(uint8_t id) {
    const group_info* g = find_group(id);
    return g ? g->len : 0;
}

result<secure_bytes> transform_key(const keyring::dhchap_secret& s, std::string_view nqn) {
    if (s.hash_id == hash_id::none) return s.secret.clone();
    secure_bytes out(hash_len(s.hash_id));
    if (out.empty()) return make_error(-EINVAL, "unknown transformation hash");
    mac_ctx m;
    static constexpr char label[] = "NVMe-over-Fabrics";
    if (auto r = hmac_init(m, s.hash_id, s.secret.span()); !r) return r.err();
    if (auto r = hmac_update(m, nqn.data(), nqn.size()); !r) return r.err();
    if (auto r = hmac_update(m, label, sizeof(label) - 1); !r) return r.err();
    if (auto r = hmac_final(m, out.span()); !r) return r.err();
    return out;
}

result<void> augment_challenge(uint8_t hash, std::span<const uint8_t> challenge,
                               std::span<const uint8_t> dh_secret, std::span<uint8_t> out) {
    const digest_info* d = find_digest(hash);
    if (d == nullptr || out.size() != d->len || challenge.size() != d->len) {
        return make_error(-EINVAL, "challenge length does not match the hash");
    }
    if (dh_secret.empty()) {
        std::memcpy(out.data(), challenge.data(), out.size());
        return {};
    }
    // The HMAC key is the hash of the DH secret: H(g^xy mod p).
    uint8_t hkey[EVP_MAX_MD_SIZE];
    unsigned int hlen = 0;
    EVP_MD* md = EVP_MD_fetch(nullptr, d->name, nullptr);
    if (md == nullptr) return crypto_error("EVP_MD_fetch");
    const int ok = EVP_Digest(dh_secret.data(), dh_secret.size(), hkey, &hlen, md, nullptr);
    EVP_MD_free(md);
    if (ok != 1) return crypto_error("EVP_Digest");
    mac_ctx m;
    result<void> r = hmac_init(m, hash, {hkey, hlen});
    if (r) r = hmac_update(m, challenge.data(), challenge.size());
    if (r) r = hmac_final(m, out);
    keyring::cleanse(hkey, sizeof(hkey));
    return r;
}

result<void> compute_response(std::span<const uint8_t> key, const response_params& p,
                              std::span<uint8_t> out) {
    const size_t hl = hash_len(p.hash);
    if (hl == 0 || out.size() != hl) return make_error(-EINVAL, "response length mismatch");
    uint8_t ca[max_hash_len];
    if (auto r = augment_challenge(p.hash, p.challenge, p.dh_secret, {ca, hl}); !r) return r;
    // Little-endian fields, as the Linux host and SPDK put them in the HMAC.
    const uint8_t seq[4] = {static_cast<uint8_t>(p.seqnum), static_cast<uint8_t>(p.seqnum >> 8),
                            static_cast<uint8_t>(p.seqnum >> 16),
                            static_cast<uint8_t>(p.seqnum >> 24)};
    const uint8_t tid[2] = {static_cast<uint8_t>(p.tid), static_cast<uint8_t>(p.tid >> 8)};
    const uint8_t zero = 0;
    mac_ctx m;
    result<void> r = hmac_init(m, p.hash, key);
    if (r) r = hmac_update(m, ca, hl);
    if (r) r = hmac_update(m, seq, sizeof(seq));
    if (r) r = hmac_update(m, tid, sizeof(tid));
    if (r) r = hmac_update(m, &p.scc, 1);
    if (r) r = hmac_update(m, p.label.data(), p.label.size());
    if (r) r = hmac_update(m, p.nqn1.data(), p.nqn1.size());
    if (r) r = hmac_update(m, &zero, 1);
    if (r) r = hmac_update(m, p.nqn2.data(), p.nqn2.size());
    if (r) r = hmac_final(m, out);
    keyring::cleanse(ca, sizeof(ca));
    return r;
}

result<void> random_bytes(std::span<uint8_t> out) {
    if (!out.empty() && RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
        return crypto_error("RAND_bytes");
    }
    return {};
}

struct dh_key::impl {
    EVP_PKEY* pkey = nullptr;
    ~impl() { EVP_PKEY_free(pkey); }
};

dh_key::dh_key(uint8_t group, impl* p) : group_(group), p_(p) {}
dh_key::dh_key(dh_key&& o) noexcept : group_(o.group_), p_(std::exchange(o.p_, nullptr)) {}
dh_key& dh_key::operator=(dh_key&& o) noexcept {
    if (this != &o) {
        delete p_;
        group_ = o.group_;
        p_ = std::exchange(o.p_, nullptr);
    }
    return *this;
}
dh_key::~dh_key() { delete p_; }

result<dh_key> dh_key::generate(uint8_t group) {
    const group_info* g = find_group(group);
    if (g == nullptr || g->len == 0) return make_error(-EINVAL, "not an FFDHE group");
    pkey_ctx_guard c;
    c.ctx = EVP_PKEY_CTX_new_from_name(nullptr, "DH", nullptr);
    if (c.ctx == nullptr || EVP_PKEY_keygen_init(c.ctx) != 1) {
        return crypto_error("EVP_PKEY_keygen_init(DH)");
    }
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(g->name), 0),
        OSSL_PARAM_construct_end()};
    if (EVP_PKEY_CTX_set_params(c.ctx, params) != 1) return crypto_error("DH group");
    auto* p = new impl;
    if (EVP_PKEY_generate(c.ctx, &p->pkey) != 1) {
        delete p;
        return crypto_error("EVP_PKEY_generate(DH)");
    }
    return dh_key(group, p);
}

result<dh_key> dh_key::from_private(uint8_t group, std::span<const uint8_t> priv) {
    // The group's p and g come from a generated key of the same group; the
    // public value is then g^x mod p for the given x.
    auto tmp = generate(group);
    if (!tmp) return tmp.err();
    bn_guard p, g, x, y;
    if (EVP_PKEY_get_bn_param(tmp->p_->pkey, OSSL_PKEY_PARAM_FFC_P, &p.bn) != 1 ||
        EVP_PKEY_get_bn_param(tmp->p_->pkey, OSSL_PKEY_PARAM_FFC_G, &g.bn) != 1) {
        return crypto_error("DH group parameters");
    }
    x.bn = BN_bin2bn(priv.data(), static_cast<int>(priv.size()), nullptr);
    y.bn = BN_new();
    BN_CTX* bctx = BN_CTX_new();
    const bool ok = x.bn && y.bn && bctx && BN_mod_exp(y.bn, g.bn, x.bn, p.bn, bctx) == 1;
    BN_CTX_free(bctx);
    if (!ok) return crypto_error("BN_mod_exp");
    auto k = dh_from_data(*find_group(group), y.bn, x.bn);
    if (!k) return k.err();
    auto* i = new impl;
    i->pkey = *k;
    return dh_key(group, i);
}

result<std::vector<uint8_t>> dh_key::public_value() const {
    bn_guard pub;
    if (EVP_PKEY_get_bn_param(p_->pkey, OSSL_PKEY_PARAM_PUB_KEY, &pub.bn) != 1) {
        return crypto_error("DH public value");
    }
    std::vector<uint8_t> out(dhgroup_len(group_));
    if (BN_bn2binpad(pub.bn, out.data(), static_cast<int>(out.size())) < 0) {
        return crypto_error("BN_bn2binpad");
    }
    return out;
}

result<secure_bytes> dh_key::shared_secret(std::span<const uint8_t> peer_public) const {
    const size_t len = dhgroup_len(group_);
    if (peer_public.size() != len) {
        return make_error(-EINVAL, "DH value is " + std::to_string(peer_public.size()) +
                                       " bytes, the group's is " + std::to_string(len));
    }
    bn_guard y;
    y.bn = BN_bin2bn(peer_public.data(), static_cast<int>(peer_public.size()), nullptr);
    if (y.bn == nullptr) return crypto_error("BN_bin2bn");
    auto peer = dh_from_data(*find_group(group_), y.bn, nullptr);
    if (!peer) return make_error(-EINVAL, "DH value refused: " + peer.err().message);
    pkey_ctx_guard c;
    c.ctx = EVP_PKEY_CTX_new(p_->pkey, nullptr);
    secure_bytes out(len);
    size_t outlen = out.size();
    // Padding keeps leading zero bytes: the secret is always the modulus's length.
    const bool ok = c.ctx && EVP_PKEY_derive_init(c.ctx) == 1 &&
                    EVP_PKEY_CTX_set_dh_pad(c.ctx, 1) == 1 &&
                    EVP_PKEY_derive_set_peer(c.ctx, *peer) == 1 &&
                    EVP_PKEY_derive(c.ctx, out.data(), &outlen) == 1;
    EVP_PKEY_free(*peer);
    if (!ok) return make_error(-EINVAL, ossl_error("DH derive (peer value refused)"));
    if (outlen != len) return make_error(-EIO, "DH secret length differs from the group's");
    return out;
}

}  // namespace nvmf::auth
