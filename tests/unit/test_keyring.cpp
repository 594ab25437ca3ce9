// The keyring: key files with SPDK's checks, the store, wiped buffers, and the
// DHHC-1 secret interchange format against published keys (the NVMe spec's
// example secret, keys printed by nvme-cli's gen-dhchap-key).
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "keyring/base64.hpp"
#include "keyring/dhchap_secret.hpp"
#include "keyring/formats.hpp"
#include "keyring/keyring.hpp"

namespace nvmf::keyring {
namespace {

std::span<const uint8_t> bytes(const std::string& s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string text(const secure_bytes& b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// The example secret of the NVMe Base specification (as quoted by the Linux
// commit that accepts every transform hash with every secret length).
const std::string spec_example = "DHHC-1:00:ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ2n:";

// `nvme gen-dhchap-key --secret=000102...1f --hmac=0 -l 32` (nvme-cli 2.3).
const std::string nvme_cli_00_32 = "DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:";
// The same with -l 48 / -l 64 and the secret continued (20..2f, 30..3f).
const std::string nvme_cli_00_48 =
    "DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vcSEgBQ==:";
const std::string nvme_cli_00_64 =
    "DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+"
    "P4zODhA=:";

class temp_dir {
public:
    temp_dir() {
        char t[] = "/tmp/nvmf-keyring-XXXXXX";
        path_ = ::mkdtemp(t);
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    std::string file(const std::string& name, const std::string& contents, mode_t mode) const {
        std::string p = path_ + "/" + name;
        std::ofstream(p) << contents;
        ::chmod(p.c_str(), mode);
        return p;
    }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

TEST(secure_bytes_test, move_truncate_clone) {
    secure_bytes a(std::string("secret").data(), 6);
    secure_bytes b = std::move(a);
    EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
    EXPECT_EQ(text(b), "secret");
    secure_bytes c = b.clone();
    c.truncate(3);
    EXPECT_EQ(text(c), "sec");
    EXPECT_EQ(text(b), "secret");
    c.clear();
    EXPECT_TRUE(c.empty());
    EXPECT_TRUE(equal_secret(b.span(), bytes("secret")));
    EXPECT_FALSE(equal_secret(b.span(), bytes("secreT")));
    EXPECT_FALSE(equal_secret(b.span(), bytes("secre")));
}

TEST(base64, round_trip_and_strictness) {
    for (const std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
        secure_bytes e = base64_encode(bytes(s));
        if (s.empty()) continue;
        auto d = base64_decode(e.span());
        ASSERT_TRUE(d) << s;
        EXPECT_EQ(text(*d), s);
    }
    EXPECT_EQ(text(base64_encode(bytes("foobar"))), "Zm9vYmFy");  // RFC 4648 section 10
    EXPECT_EQ(text(base64_encode(bytes("fo"))), "Zm8=");
    EXPECT_FALSE(base64_decode(bytes("Zm9")));       // not a multiple of 4
    EXPECT_FALSE(base64_decode(bytes("Zm=v")));      // padding inside
    EXPECT_FALSE(base64_decode(bytes("Zm9v!A==")));  // outside the alphabet
    EXPECT_FALSE(base64_decode(bytes("Zm9=")));      // non-zero padding bits ('9' = 61)
    EXPECT_TRUE(base64_decode(bytes("Zm8=")));
}

TEST(crc32_ieee, zlib_values) {
    EXPECT_EQ(crc32_ieee(bytes("123456789")), 0xcbf43926u);  // the CRC-32 check value
    EXPECT_EQ(crc32_ieee(bytes("")), 0u);
}

TEST(dhchap_secret_format, spec_example_and_nvme_cli_keys_parse) {
    auto s = parse_dhchap_secret(bytes(spec_example));
    ASSERT_TRUE(s) << s.err().message;
    EXPECT_EQ(s->hash_id, 0);
    EXPECT_EQ(s->secret.size(), 32u);
    // Every transform hash with a 32-byte secret (the Linux host accepts them all).
    for (const char* h : {"01", "02", "03"}) {
        std::string k = spec_example;
        k.replace(7, 2, h);
        EXPECT_TRUE(parse_dhchap_secret(bytes(k))) << k;
    }
    struct {
        const std::string* key;
        size_t len;
    } cli[] = {{&nvme_cli_00_32, 32}, {&nvme_cli_00_48, 48}, {&nvme_cli_00_64, 64}};
    for (const auto& c : cli) {
        auto p = parse_dhchap_secret(bytes(*c.key + "\n"));  // a key file ends in a newline
        ASSERT_TRUE(p) << p.err().message;
        ASSERT_EQ(p->secret.size(), c.len);
        for (size_t i = 0; i < c.len; ++i) EXPECT_EQ(p->secret[i], i);
        // Formatting gives nvme-cli's text back.
        auto f = format_dhchap_secret(0, p->secret.span());
        ASSERT_TRUE(f);
        EXPECT_EQ(text(*f), *c.key);
    }
}

TEST(dhchap_secret_format, refusals) {
    auto refused = [](const std::string& k, const char* why) {
        auto r = parse_dhchap_secret(bytes(k));
        if (r) return ::testing::AssertionFailure() << k << " was accepted";
        if (r.err().message.find(why) == std::string::npos) {
            return ::testing::AssertionFailure() << k << ": " << r.err().message;
        }
        // Errors never quote the key.
        if (r.err().message.find("ia6zGod") != std::string::npos) {
            return ::testing::AssertionFailure() << "the message quotes the key";
        }
        return ::testing::AssertionSuccess();
    };
    std::string crc = spec_example;
    crc[20] = crc[20] == 'A' ? 'B' : 'A';
    EXPECT_TRUE(refused(crc, "CRC mismatch"));
    EXPECT_TRUE(refused("DHHC-2:00:ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ2n:", "DHHC-1:"));
    EXPECT_TRUE(refused("DHHC-1:04:ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ2n:", "hash 4"));
    EXPECT_TRUE(
        refused("DHHC-1:0x:ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ2n:", "hexadecimal"));
    EXPECT_TRUE(refused("DHHC-1:00:ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ2n", "end with"));
    EXPECT_TRUE(refused("DHHC-1:00:ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ2:", "base64"));
    EXPECT_TRUE(refused("DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd:", "must be 32, 48"));
    EXPECT_TRUE(refused("DHHC-1:00::", "base64"));
    EXPECT_TRUE(refused("DHHC-1:00:ia6z:GodO:", "too many"));
    EXPECT_TRUE(refused("", "DHHC-1:"));
    EXPECT_FALSE(format_dhchap_secret(0, bytes("short")));
    EXPECT_FALSE(format_dhchap_secret(4, parse_dhchap_secret(bytes(spec_example))->secret.span()));
}

TEST(key_file, spdk_checks) {
    temp_dir d;
    const std::string ok = d.file("ok", spec_example + "\n", 0600);
    auto r = read_key_file(ok);
    ASSERT_TRUE(r) << r.err().message;
    EXPECT_EQ(text(*r), spec_example + "\n");
    EXPECT_TRUE(read_key_file(d.file("ro", spec_example, 0400)));

    auto refused = [](const result<secure_bytes>& x, int code, const char* why) {
        if (x) return ::testing::AssertionFailure() << "accepted";
        if (x.err().code != code || x.err().message.find(why) == std::string::npos) {
            return ::testing::AssertionFailure() << x.err().code << " " << x.err().message;
        }
        return ::testing::AssertionSuccess();
    };
    EXPECT_TRUE(refused(read_key_file(d.file("g", spec_example, 0640)), -EPERM, "permissions"));
    EXPECT_TRUE(refused(read_key_file(d.file("o", spec_example, 0604)), -EPERM, "permissions"));
    EXPECT_TRUE(refused(read_key_file("relative/key"), -EPERM, "Non-absolute"));
    EXPECT_TRUE(refused(read_key_file(d.path() + "/missing"), -ENOENT, "Could not open"));
    EXPECT_TRUE(refused(read_key_file(d.path()), -EINVAL, "not a regular file"));
    EXPECT_TRUE(refused(read_key_file(d.file("empty", "", 0600)), -EINVAL, "bytes"));
    EXPECT_TRUE(refused(read_key_file(d.file("big", std::string(key_file_max + 1, 'x'), 0600)),
                        -EINVAL, "bytes"));
    // Owned by someone else (only root can hand a file over).
    const std::string other = d.file("other", spec_example, 0600);
    if (::getuid() == 0 && ::chown(other.c_str(), 12345, 12345) == 0) {
        EXPECT_TRUE(refused(read_key_file(other), -EPERM, "owner"));
    }
}

TEST(keyring_store, add_find_remove) {
    temp_dir d;
    store s;
    const std::string path = d.file("k0", spec_example + "\n", 0600);
    auto k = s.add_file_key("key0", path);
    ASSERT_TRUE(k) << k.err().message;
    EXPECT_EQ((*k)->name(), "key0");
    EXPECT_EQ((*k)->path(), path);
    EXPECT_STREQ((*k)->format().name, "DHHC-1");
    EXPECT_EQ(s.find("key0"), *k);
    EXPECT_EQ(s.find("nope"), nullptr);

    auto dup = s.add_file_key("key0", path);
    ASSERT_FALSE(dup);
    EXPECT_EQ(dup.err().code, -EEXIST);

    auto bad = s.add_file_key("bad", d.file("bad", "not a key\n", 0600));
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.err().message.find("not in a known key interchange format"), std::string::npos);
    std::string crc = spec_example;
    crc[20] = crc[20] == 'A' ? 'B' : 'A';
    auto badcrc = s.add_file_key("badcrc", d.file("badcrc", crc, 0600));
    ASSERT_FALSE(badcrc);
    EXPECT_NE(badcrc.err().message.find("CRC"), std::string::npos);
    EXPECT_FALSE(s.add_file_key("has space", path));
    EXPECT_FALSE(s.add_file_key("", path));

    EXPECT_TRUE(s.add_file_key("key1", d.file("k1", nvme_cli_00_64, 0600)));
    auto all = s.keys();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0]->name(), "key0");
    EXPECT_EQ(all[1]->name(), "key1");

    // A holder keeps the object, but a removed key is not usable any more.
    key_ptr held = *k;
    EXPECT_TRUE(held->usable());
    ASSERT_TRUE(s.remove_key("key0"));
    EXPECT_FALSE(held->usable());
    EXPECT_EQ(s.find("key0"), nullptr);
    auto again = s.remove_key("key0");
    ASSERT_FALSE(again);
    EXPECT_EQ(again.err().code, -ENOKEY);
    // The name can be used again, for a new key.
    EXPECT_TRUE(s.add_file_key("key0", path));
}

TEST(key_formats, detect) {
    EXPECT_TRUE(detect_format(bytes(spec_example)));
    auto r = detect_format(bytes("NotAKey-1:00:"));
    ASSERT_FALSE(r);
    EXPECT_NE(r.err().message.find("DHHC-1"), std::string::npos);
}

}  // namespace
}  // namespace nvmf::keyring
