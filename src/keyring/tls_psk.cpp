#include "keyring/tls_psk.hpp"

#include <arpa/inet.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include <isa-l/crc.h>

namespace nvmf::keyring {

// ---------------------------------------------------------------- secret_bytes

secret_bytes& secret_bytes::operator=(const secret_bytes& o) {
    if (this != &o) {
        wipe();
        b_ = o.b_;
    }
    return *this;
}

secret_bytes& secret_bytes::operator=(secret_bytes&& o) noexcept {
    if (this != &o) {
        wipe();
        b_ = std::move(o.b_);
        o.b_.clear();
    }
    return *this;
}

void secret_bytes::resize(size_t n) {
    if (n < b_.size()) OPENSSL_cleanse(b_.data() + n, b_.size() - n);
    // Growing may move the bytes: wipe the old place first.
    if (n > b_.capacity()) {
        std::vector<uint8_t> bigger(n);
        if (!b_.empty()) std::memcpy(bigger.data(), b_.data(), b_.size());
        wipe();
        b_ = std::move(bigger);
        return;
    }
    b_.resize(n);
}

bool secret_bytes::operator==(const secret_bytes& o) const {
    return b_.size() == o.b_.size() && CRYPTO_memcmp(b_.data(), o.b_.data(), b_.size()) == 0;
}

void secret_bytes::wipe() {
    if (!b_.empty()) OPENSSL_cleanse(b_.data(), b_.size());
    b_.clear();
}

// ---------------------------------------------------------------- names

const char* cipher_name(tls_cipher c) {
    return c == tls_cipher::aes_256_gcm_sha384 ? "TLS_AES_256_GCM_SHA384"
                                               : "TLS_AES_128_GCM_SHA256";
}

size_t cipher_hash_len(tls_cipher c) { return c == tls_cipher::aes_256_gcm_sha384 ? 48 : 32; }

tls_cipher configured_psk::cipher() const {
    return key.size() == 48 ? tls_cipher::aes_256_gcm_sha384 : tls_cipher::aes_128_gcm_sha256;
}

namespace {

constexpr std::string_view interchange_prefix = "NVMeTLSkey-1:";
constexpr size_t crc_len = 4;

const EVP_MD* md_of(tls_cipher c) {
    return c == tls_cipher::aes_256_gcm_sha384 ? EVP_sha384() : EVP_sha256();
}

error bad_key(const std::string& why) { return make_error(-EINVAL, "invalid TLS PSK: " + why); }

// HKDF-Extract(0, key) then HKDF-Expand with the TLS 1.3 HkdfLabel
// {uint16 length; opaque label<7..255> = "tls13 " label; opaque context<0..255>}.
result<secret_bytes> hkdf_label(const EVP_MD* md, std::span<const uint8_t> key,
                                std::string_view label, std::string_view context, size_t out_len) {
    const std::string full = "tls13 " + std::string(label);
    if (full.size() > 255 || context.size() > 255 || out_len > 0xffff) {
        return make_error(-EINVAL, "HKDF label or context too long");
    }
    std::vector<uint8_t> info;
    info.reserve(4 + full.size() + context.size());
    const uint16_t be = htons(static_cast<uint16_t>(out_len));
    info.insert(info.end(), reinterpret_cast<const uint8_t*>(&be),
                reinterpret_cast<const uint8_t*>(&be) + 2);
    info.push_back(static_cast<uint8_t>(full.size()));
    info.insert(info.end(), full.begin(), full.end());
    info.push_back(static_cast<uint8_t>(context.size()));
    info.insert(info.end(), context.begin(), context.end());

    std::unique_ptr<EVP_PKEY_CTX, void (*)(EVP_PKEY_CTX*)> ctx(
        EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr), EVP_PKEY_CTX_free);
    static const uint8_t no_salt[1] = {0};
    secret_bytes out(out_len);
    size_t len = out_len;
    // The salt is empty: HKDF-Extract then uses a string of HashLen zeros (RFC 5869).
    if (!ctx || EVP_PKEY_derive_init(ctx.get()) <= 0 ||
        EVP_PKEY_CTX_set_hkdf_mode(ctx.get(), EVP_PKEY_HKDEF_MODE_EXTRACT_AND_EXPAND) <= 0 ||
        EVP_PKEY_CTX_set_hkdf_md(ctx.get(), md) <= 0 ||
        EVP_PKEY_CTX_set1_hkdf_salt(ctx.get(), no_salt, 0) <= 0 ||
        EVP_PKEY_CTX_set1_hkdf_key(ctx.get(), key.data(), static_cast<int>(key.size())) <= 0 ||
        EVP_PKEY_CTX_add1_hkdf_info(ctx.get(), info.data(), static_cast<int>(info.size())) <= 0 ||
        EVP_PKEY_derive(ctx.get(), out.data(), &len) <= 0 || len != out_len) {
        return make_error(-EIO, "HKDF failed");
    }
    return out;
}

bool is_hex2(std::string_view s, uint8_t* v) {
    auto d = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    if (s.size() != 2 || d(s[0]) < 0 || d(s[1]) < 0) return false;
    *v = static_cast<uint8_t>(d(s[0]) * 16 + d(s[1]));
    return true;
}

}  // namespace

// ---------------------------------------------------------------- base64

std::string base64_encode(std::span<const uint8_t> in) {
    std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), in.data(),
                                  static_cast<int>(in.size()));
    out.resize(static_cast<size_t>(n));
    return out;
}

result<secret_bytes> base64_decode(std::string_view in) {
    if (in.empty() || in.size() % 4 != 0) return bad_key("base64 length is not a multiple of 4");
    size_t pad = 0;
    for (size_t i = 0; i < in.size(); ++i) {
        const char c = in[i];
        const bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                           (c >= '0' && c <= '9') || c == '+' || c == '/';
        if (c == '=') {
            if (i + 2 < in.size()) return bad_key("base64 padding inside the text");
            ++pad;
        } else if (!alpha || pad > 0) {
            return bad_key("not base64");
        }
    }
    secret_bytes out(in.size() / 4 * 3);
    const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(in.data()),
                                  static_cast<int>(in.size()));
    if (n < 0 || static_cast<size_t>(n) < pad) return bad_key("not base64");
    // EVP_DecodeBlock counts the padding as zero bytes.
    out.resize(static_cast<size_t>(n) - pad);
    return out;
}

// ---------------------------------------------------------------- interchange

uint32_t interchange_crc(std::span<const uint8_t> key) {
    return crc32_gzip_refl(0, key.data(), key.size());
}

result<configured_psk> parse_interchange(std::string_view text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ' ||
                             text.back() == '\t')) {
        text.remove_suffix(1);
    }
    if (text.substr(0, interchange_prefix.size()) != interchange_prefix) {
        return bad_key("not in the interchange format (NVMeTLSkey-1:HH:...:)");
    }
    text.remove_prefix(interchange_prefix.size());
    uint8_t hh = 0;
    if (text.size() < 4 || !is_hex2(text.substr(0, 2), &hh) || text[2] != ':') {
        return bad_key("the hash field must be two hex digits");
    }
    if (hh > 2) return bad_key("unknown hash " + std::string(text.substr(0, 2)));
    text.remove_prefix(3);
    if (text.back() != ':') return bad_key("missing the final ':'");
    text.remove_suffix(1);
    auto raw = base64_decode(text);
    if (!raw) return raw.err();
    const size_t key_len = raw->size() >= crc_len ? raw->size() - crc_len : 0;
    configured_psk out;
    out.hash = static_cast<psk_hash>(hh);
    if (key_len != 32 && key_len != 48) {
        return bad_key("the key is " + std::to_string(key_len) + " bytes, not 32 or 48");
    }
    if ((out.hash == psk_hash::sha256 && key_len != 32) ||
        (out.hash == psk_hash::sha384 && key_len != 48)) {
        return bad_key("hash " + std::string(hh == 1 ? "01" : "02") + " needs a " +
                       (hh == 1 ? "32" : "48") + "-byte key");
    }
    const uint8_t* p = raw->data();
    const uint32_t want = interchange_crc({p, key_len});
    const uint32_t got =
        static_cast<uint32_t>(p[key_len]) | static_cast<uint32_t>(p[key_len + 1]) << 8 |
        static_cast<uint32_t>(p[key_len + 2]) << 16 | static_cast<uint32_t>(p[key_len + 3]) << 24;
    if (got != want) return bad_key("CRC-32 mismatch");
    out.key = secret_bytes(p, key_len);
    return out;
}

result<std::string> format_interchange(psk_hash hash, std::span<const uint8_t> key) {
    if (key.size() != 32 && key.size() != 48) return bad_key("a key is 32 or 48 bytes");
    if ((hash == psk_hash::sha256 && key.size() != 32) ||
        (hash == psk_hash::sha384 && key.size() != 48)) {
        return bad_key("hash and key length disagree");
    }
    secret_bytes raw(key.size() + crc_len);
    std::memcpy(raw.data(), key.data(), key.size());
    const uint32_t crc = interchange_crc(key);
    for (size_t i = 0; i < crc_len; ++i) raw.data()[key.size() + i] = (crc >> (8 * i)) & 0xff;
    char hh[3];
    std::snprintf(hh, sizeof(hh), "%02x", static_cast<unsigned>(hash));
    return std::string(interchange_prefix) + hh + ":" + base64_encode(raw.span()) + ":";
}

// ---------------------------------------------------------------- derivations

result<secret_bytes> derive_retained_psk(const configured_psk& psk, std::string_view hostnqn) {
    if (psk.hash == psk_hash::none) return psk.key;
    const EVP_MD* md = psk.hash == psk_hash::sha384 ? EVP_sha384() : EVP_sha256();
    return hkdf_label(md, psk.key.span(), "HostNQN", hostnqn, psk.key.size());
}

std::string psk_identity_v0(tls_cipher c, std::string_view hostnqn, std::string_view subnqn) {
    return "NVMe0R0" + std::to_string(static_cast<int>(c)) + " " + std::string(hostnqn) + " " +
           std::string(subnqn);
}

result<std::string> psk_digest(tls_cipher c, std::span<const uint8_t> retained,
                               std::string_view hostnqn, std::string_view subnqn) {
    const std::string msg = std::string(hostnqn) + " " + std::string(subnqn) + " NVMe-over-Fabrics";
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (HMAC(md_of(c), retained.data(), static_cast<int>(retained.size()),
             reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), mac,
             &len) == nullptr) {
        return make_error(-EIO, "HMAC failed");
    }
    std::string out = base64_encode({mac, len});
    OPENSSL_cleanse(mac, sizeof(mac));
    return out;
}

std::string psk_identity_v1(tls_cipher c, std::string_view hostnqn, std::string_view subnqn,
                            std::string_view digest) {
    return "NVMe1R0" + std::to_string(static_cast<int>(c)) + " " + std::string(hostnqn) + " " +
           std::string(subnqn) + " " + std::string(digest);
}

result<psk_identity> parse_psk_identity(std::string_view id) {
    auto bad = [](const char* why) {
        return make_error(-EINVAL, std::string("PSK identity: ") + why);
    };
    // "NVMe" version ("R" | "G") HH " " ...
    if (id.size() < 9 || id.substr(0, 4) != "NVMe" || (id[5] != 'R' && id[5] != 'G') ||
        id[8] != ' ') {
        return bad("not NVMe<v><R|G><hh>");
    }
    psk_identity out;
    out.generated = id[5] == 'G';
    if (id[4] == '0') {
        out.version = 0;
    } else if (id[4] == '1') {
        out.version = 1;
    } else {
        return bad("unknown version");
    }
    if (id.substr(6, 2) == "01") {
        out.cipher = tls_cipher::aes_128_gcm_sha256;
    } else if (id.substr(6, 2) == "02") {
        out.cipher = tls_cipher::aes_256_gcm_sha384;
    } else {
        return bad("unknown hash");
    }
    std::string_view rest = id.substr(9);
    std::vector<std::string_view> fields;
    while (!rest.empty()) {
        const size_t sp = rest.find(' ');
        fields.push_back(rest.substr(0, sp));
        if (sp == std::string_view::npos) break;
        rest.remove_prefix(sp + 1);
        if (rest.empty()) fields.emplace_back();  // a trailing space: an empty field
    }
    const size_t want = out.version == 0 ? 2 : 3;
    if (fields.size() != want) return bad("wrong number of fields");
    for (auto f : fields) {
        if (f.empty()) return bad("empty field");
        if (f.size() > 223 + 64) return bad("field too long");
    }
    if (fields[0].size() > 223 || fields[1].size() > 223) return bad("NQN longer than 223 bytes");
    out.hostnqn = std::string(fields[0]);
    out.subnqn = std::string(fields[1]);
    if (out.version == 1) out.digest = std::string(fields[2]);
    return out;
}

std::string psk_identity_text(const psk_identity& id) {
    std::string s = "NVMe" + std::to_string(id.version) + (id.generated ? "G" : "R") + "0" +
                    std::to_string(static_cast<int>(id.cipher)) + " " + id.hostnqn + " " +
                    id.subnqn;
    if (id.version == 1) s += " " + id.digest;
    return s;
}

result<secret_bytes> derive_tls_psk(const psk_identity& id, std::string_view identity_text,
                                    std::span<const uint8_t> retained) {
    std::string context;
    if (id.version == 0) {
        context = std::string(identity_text);
    } else {
        context = "0" + std::to_string(static_cast<int>(id.cipher)) + " " + id.digest;
    }
    return hkdf_label(md_of(id.cipher), retained, "nvme-tls-psk", context,
                      cipher_hash_len(id.cipher));
}

result<tls_credentials> host_credentials(const configured_psk& psk, std::string_view hostnqn,
                                         std::string_view subnqn, int identity_version) {
    if (identity_version != 0 && identity_version != 1) {
        return make_error(-EINVAL, "PSK identity version must be 0 or 1");
    }
    auto retained = derive_retained_psk(psk, hostnqn);
    if (!retained) return retained.err();
    tls_credentials out;
    out.cipher = psk.cipher();
    psk_identity id;
    id.version = identity_version;
    id.cipher = out.cipher;
    id.hostnqn = std::string(hostnqn);
    id.subnqn = std::string(subnqn);
    if (identity_version == 0) {
        out.identity = psk_identity_v0(out.cipher, hostnqn, subnqn);
    } else {
        auto d = psk_digest(out.cipher, retained->span(), hostnqn, subnqn);
        if (!d) return d.err();
        id.digest = *d;
        out.identity = psk_identity_v1(out.cipher, hostnqn, subnqn, *d);
    }
    auto tls = derive_tls_psk(id, out.identity, retained->span());
    if (!tls) return tls.err();
    out.tls_psk = std::move(*tls);
    return out;
}

result<host_psk> make_host_psk(std::string key_name, std::string_view interchange,
                               std::string_view hostnqn) {
    auto psk = parse_interchange(interchange);
    if (!psk) return make_error(psk.err().code, "key '" + key_name + "': " + psk.err().message);
    auto retained = derive_retained_psk(*psk, hostnqn);
    if (!retained) return retained.err();
    host_psk out;
    out.key_name = std::move(key_name);
    out.cipher = psk->cipher();
    out.retained = std::move(*retained);
    return out;
}

result<secret_bytes> target_tls_psk(const psk_identity& id, std::string_view identity_text,
                                    const host_psk& key) {
    if (id.generated) {
        return make_error(-ENOKEY, "a generated PSK identity (NVMe<v>G) names no configured PSK");
    }
    if (id.cipher != key.cipher) {
        return make_error(-ENOKEY, std::string("the identity asks for ") + cipher_name(id.cipher) +
                                       ", the host's key is for " + cipher_name(key.cipher));
    }
    if (id.version == 1) {
        auto d = psk_digest(id.cipher, key.retained.span(), id.hostnqn, id.subnqn);
        if (!d) return d.err();
        if (*d != id.digest) return make_error(-ENOKEY, "the NVMe1R digest does not match the key");
    }
    return derive_tls_psk(id, identity_text, key.retained.span());
}

}  // namespace nvmf::keyring
