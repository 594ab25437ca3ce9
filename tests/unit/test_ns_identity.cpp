// Namespace identity (docs/namespace-identity.md): name-based UUIDs checked
// against Python's uuid.uuid5, block device identities read from sysfs trees,
// file bdev UUIDs kept in an extended attribute or derived where none can be
// kept (ramfs, root only), loop devices (root only), and the identifiers a
// subsystem gives its namespaces: configured ones win, derived ones come back
// the same and are never shared by two namespaces.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "bdev/bdev.hpp"
#include "bdev/file_identity.hpp"
#include "nvmf/cmd/identify_builder.hpp"
#include "nvmf/subsystem.hpp"
#include "nvmf/target.hpp"
#include "reactor/reactor.hpp"

namespace nvmf::test {
namespace {

namespace fs = std::filesystem;

bdev::uuid_t uuid(const std::string& s) {
    bdev::uuid_t u{};
    EXPECT_TRUE(bdev::uuid_from_string(s, &u)) << s;
    return u;
}

// A fresh directory, removed with everything in it.
struct temp_dir {
    explicit temp_dir(const std::string& parent) {
        std::string tmpl = parent + "/nvmf-ident-XXXXXX";
        if (::mkdtemp(tmpl.data()) != nullptr) path = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        if (!path.empty()) fs::remove_all(path, ec);
    }
    // Writes `content` to the relative path `rel`, creating directories.
    void put(const std::string& rel, const std::string& content) const {
        fs::create_directories(fs::path(path + "/" + rel).parent_path());
        std::ofstream(path + "/" + rel, std::ios::binary) << content;
    }
    // A sparse file of `bytes`.
    std::string file(const std::string& name, uint64_t bytes = 1 << 20) const {
        std::string p = path + "/" + name;
        const int fd = ::open(p.c_str(), O_CREAT | O_RDWR | O_TRUNC, 0600);
        EXPECT_GE(fd, 0) << p;
        EXPECT_EQ(::ftruncate(fd, static_cast<off_t>(bytes)), 0);
        ::close(fd);
        return p;
    }
    std::string path;
};

std::shared_ptr<bdev::block_device> open_file(const std::string& path,
                                              std::optional<bdev::uuid_t> u = std::nullopt,
                                              bool readonly = false) {
    bdev::file_options o;
    o.name = "F";
    o.filename = path;
    o.uuid = u;
    o.readonly = readonly;
    auto r = bdev::make_file(o);
    EXPECT_TRUE(r) << r.err().message;
    return r ? *r : nullptr;
}

std::string stored_xattr(const std::string& path) {
    char buf[128];
    const ssize_t n = ::getxattr(path.c_str(), bdev::uuid_xattr, buf, sizeof(buf));
    return n < 0 ? std::string() : std::string(buf, static_cast<size_t>(n));
}

TEST(ns_identity, name_based_uuids_are_rfc_4122_version_5) {
    // Python: uuid.uuid5(uuid.NAMESPACE_DNS, "python.org")
    auto u = bdev::name_based_uuid(uuid("6ba7b810-9dad-11d1-80b4-00c04fd430c8"), "python.org");
    ASSERT_TRUE(u) << u.err().message;
    EXPECT_EQ(bdev::uuid_to_string(*u), "886313e1-3b8a-5372-9b90-0c9aee199e5d");

    // The documented rule for namespaces: uuid5(bdev UUID, "<NQN>/<NSID>").
    const auto bdev_uuid = uuid("01234567-89ab-4def-8123-456789abcdef");
    auto n1 = derive_ns_uuid(bdev_uuid, "nqn.2016-06.io.spdk:cnode1", 1);
    auto n2 = derive_ns_uuid(bdev_uuid, "nqn.2016-06.io.spdk:cnode1", 2);
    ASSERT_TRUE(n1 && n2);
    EXPECT_EQ(bdev::uuid_to_string(*n1), "fbd4a30d-b3dd-5f37-a136-91c449760588");
    EXPECT_EQ(bdev::uuid_to_string(*n2), "d24f5edb-4397-5ae8-93a7-4dd9a430cd4d");

    // The namespace of derived bdev UUIDs is fixed forever: changing it would
    // change every derived identifier at the next start.
    auto b = bdev::name_based_uuid(bdev::derived_uuid_ns, "block:wwid:naa.5000c500a1b2c3d4");
    ASSERT_TRUE(b);
    EXPECT_EQ(bdev::uuid_to_string(*b), "0d5f71a3-2a41-58c6-ac49-68173f9ee098");
}

TEST(ns_identity, block_device_id_from_sysfs) {
    temp_dir t("/tmp");
    ASSERT_FALSE(t.path.empty());
    auto id = [&](const std::string& dev) { return bdev::block_device_id(t.path + "/" + dev); };

    fs::create_directories(t.path + "/none");
    EXPECT_EQ(id("none"), "");
    t.put("nvme/wwid", "eui.0025388b91c2a1b4\n");
    t.put("nvme/serial", "S4EWNX0R123456\n");  // the WWID comes first
    EXPECT_EQ(id("nvme"), "wwid:eui.0025388b91c2a1b4");
    t.put("sd/device/wwid", "naa.5000c500a1b2c3d4\n");
    EXPECT_EQ(id("sd"), "wwid:naa.5000c500a1b2c3d4");
    t.put("dm/dm/uuid", "LVM-k3Jx0w8dK1e2\n");
    EXPECT_EQ(id("dm"), "dm:LVM-k3Jx0w8dK1e2");
    t.put("dm-plain/dm/uuid", "\n");  // dmsetup create without -u
    EXPECT_EQ(id("dm-plain"), "");
    t.put("md/md/uuid", "3a1c8f52:9d0e6b7a:11223344:55667788\n");
    EXPECT_EQ(id("md"), "md:3a1c8f52:9d0e6b7a:11223344:55667788");
    t.put("rbd/device/image_id", "10226b8b4567\n");
    t.put("rbd/device/cluster_fsid", "b7c0b1a4-6f0e-11ee-9c1b-525400a1b2c3\n");
    t.put("rbd/device/pool_id", "2\n");
    t.put("rbd/device/pool_ns", "\n");
    t.put("rbd/device/snap_id", "18446744073709551614\n");
    EXPECT_EQ(id("rbd"),
              "rbd:b7c0b1a4-6f0e-11ee-9c1b-525400a1b2c3/2//10226b8b4567@18446744073709551614");
    t.put("loop/loop/backing_file", "/var/lib/images/a.img\n");
    t.put("loop/loop/offset", "1048576\n");
    EXPECT_EQ(id("loop"), "loop:/var/lib/images/a.img@1048576");
    t.put("vd/serial", std::string("vol-0a1b2c   \0\0", 15));  // padded, NUL-terminated
    EXPECT_EQ(id("vd"), "serial:vol-0a1b2c");
    t.put("ata/device/serial", "WD-WCC4N1234567\n");
    t.put("ata/device/model", "WDC WD40EFRX\n");
    EXPECT_EQ(id("ata"), "serial:WD-WCC4N1234567/WDC WD40EFRX");
    // A partition: its disk's identity (the parent directory) and its number.
    t.put("sd/sd1/partition", "1\n");
    EXPECT_EQ(id("sd/sd1"), "wwid:naa.5000c500a1b2c3d4/part1");
    t.put("none/none3/partition", "3\n");
    EXPECT_EQ(id("none/none3"), "");  // nothing to build on
}

// Regular files on a file system with user extended attributes (/var/tmp and
// /dev/shm here; tmpfs has them since Linux 6.6).
TEST(ns_identity, file_uuid_is_stored_with_the_file) {
    for (const char* parent : {"/var/tmp", "/dev/shm"}) {
        SCOPED_TRACE(parent);
        temp_dir t(parent);
        ASSERT_FALSE(t.path.empty());
        const std::string a = t.file("a.img"), b = t.file("b.img");
        if (::setxattr(a.c_str(), "user.nvmf-probe", "1", 1, 0) != 0 && errno == ENOTSUP) {
            GTEST_SKIP() << parent << " keeps no user extended attributes on this kernel";
        }
        ::removexattr(a.c_str(), "user.nvmf-probe");

        auto d = open_file(a);
        ASSERT_TRUE(d);
        EXPECT_EQ(d->uuid_origin(), bdev::id_origin::stored);
        EXPECT_NE(d->uuid_note().find("new, stored in user.nvmf-target.uuid of " + a),
                  std::string::npos)
            << d->uuid_note();
        EXPECT_EQ(stored_xattr(a), bdev::uuid_to_string(d->uuid()));
        EXPECT_EQ(d->uuid()[6] >> 4, 4);  // a random UUID: nothing else can produce it

        // The next bdev on the file (the next start) reads it back, read-only too.
        for (bool ro : {false, true}) {
            auto again = open_file(a, std::nullopt, ro);
            ASSERT_TRUE(again);
            EXPECT_EQ(again->uuid(), d->uuid());
            EXPECT_EQ(again->uuid_origin(), bdev::id_origin::stored);
            EXPECT_EQ(again->uuid_note(), "stored in user.nvmf-target.uuid of " + a);
        }
        // Another file, another UUID; a read-only bdev stores one too, so that
        // the file has one identity however it is opened.
        auto other = open_file(b, std::nullopt, true);
        ASSERT_TRUE(other);
        EXPECT_NE(other->uuid(), d->uuid());
        EXPECT_EQ(stored_xattr(b), bdev::uuid_to_string(other->uuid()));

        // A configured UUID wins and leaves the file alone; the null UUID is none.
        const auto mine = uuid("5a5a5a5a-1111-4222-8333-444455556666");
        auto conf = open_file(a, mine);
        ASSERT_TRUE(conf);
        EXPECT_EQ(conf->uuid(), mine);
        EXPECT_EQ(conf->uuid_origin(), bdev::id_origin::configured);
        EXPECT_EQ(stored_xattr(a), bdev::uuid_to_string(d->uuid()));
        auto null = open_file(a, bdev::uuid_t{});
        ASSERT_TRUE(null);
        EXPECT_EQ(null->uuid(), d->uuid());

        // Written by hand with a newline: accepted. Not a UUID: refused, clearly.
        const std::string typed = "0f8e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b\n";
        ASSERT_EQ(::setxattr(a.c_str(), bdev::uuid_xattr, typed.data(), typed.size(), 0), 0);
        auto by_hand = open_file(a);
        ASSERT_TRUE(by_hand);
        EXPECT_EQ(bdev::uuid_to_string(by_hand->uuid()), "0f8e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b");
        ASSERT_EQ(::setxattr(a.c_str(), bdev::uuid_xattr, "disk one", 8, 0), 0);
        bdev::file_options o;
        o.name = "Bad0";
        o.filename = a;
        auto bad = bdev::make_file(o);
        ASSERT_FALSE(bad);
        EXPECT_EQ(bad.err().code, -EINVAL);
        for (const std::string& part :
             {std::string("bdev 'Bad0'"), a, std::string("'disk one', not a UUID"),
              std::string("setfattr -x user.nvmf-target.uuid")}) {
            EXPECT_NE(bad.err().message.find(part), std::string::npos) << bad.err().message;
        }
        const std::string long_value(100, 'x');
        ASSERT_EQ(::setxattr(a.c_str(), bdev::uuid_xattr, long_value.data(), long_value.size(), 0),
                  0);
        bad = bdev::make_file(o);
        ASSERT_FALSE(bad);
        EXPECT_NE(bad.err().message.find("more than 64 bytes"), std::string::npos)
            << bad.err().message;
    }
}

// Where no extended attribute can be kept (ramfs; tmpfs before Linux 6.6):
// derived from the canonical path and the inode. Root only (mount).
TEST(ns_identity, file_uuid_is_derived_where_the_file_system_keeps_none) {
    temp_dir mnt("/tmp");
    ASSERT_FALSE(mnt.path.empty());
    if (::mount("ramfs", mnt.path.c_str(), "ramfs", 0, nullptr) != 0) {
        GTEST_SKIP() << "needs root to mount a ramfs: " << std::strerror(errno);
    }
    struct unmount {
        std::string d;
        ~unmount() { ::umount2(d.c_str(), MNT_DETACH); }
    } um{mnt.path};
    const std::string a = mnt.path + "/a.img";
    const std::string b = mnt.path + "/b.img";
    for (const auto& p : {a, b}) {
        const int fd = ::open(p.c_str(), O_CREAT | O_RDWR, 0600);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(::ftruncate(fd, 1 << 20), 0);
        ::close(fd);
    }
    auto d = open_file(a);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->uuid_origin(), bdev::id_origin::path);
    for (const std::string& part : {std::string("derived from path ") + a, std::string("inode"),
                                    std::string("uuid parameter")}) {
        EXPECT_NE(d->uuid_note().find(part), std::string::npos) << d->uuid_note();
    }
    struct stat st {};
    ASSERT_EQ(::stat(a.c_str(), &st), 0);
    auto expect =
        bdev::name_based_uuid(bdev::derived_uuid_ns, "file:" + std::to_string(st.st_ino) + ":" + a);
    ASSERT_TRUE(expect);
    EXPECT_EQ(d->uuid(), *expect);  // the documented rule
    EXPECT_EQ(open_file(a)->uuid(), d->uuid());
    EXPECT_EQ(open_file(a, std::nullopt, true)->uuid(), d->uuid());
    EXPECT_NE(open_file(b)->uuid(), d->uuid());
    // Through a symbolic link: the same file, the same UUID.
    const std::string link = mnt.path + "/link.img";
    ASSERT_EQ(::symlink(a.c_str(), link.c_str()), 0);
    EXPECT_EQ(open_file(link)->uuid(), d->uuid());
    // The documented limit: a moved file is another one.
    const std::string moved = mnt.path + "/moved.img";
    ASSERT_EQ(::rename(a.c_str(), moved.c_str()), 0);
    EXPECT_NE(open_file(moved)->uuid(), d->uuid());
}

// A loop device's identity is its backing file: the same UUID whichever
// /dev/loopN it gets. Root only (losetup).
TEST(ns_identity, block_device_uuid_follows_the_device_not_its_name) {
    temp_dir t("/var/tmp");
    ASSERT_FALSE(t.path.empty());
    const std::string img = t.file("loop.img", 4 << 20);
    auto attach = [&]() -> std::string {
        FILE* p = ::popen(("losetup -f --show " + img + " 2>/dev/null").c_str(), "r");
        if (p == nullptr) return {};
        char buf[64] = {};
        const bool got = std::fgets(buf, sizeof(buf), p) != nullptr;
        ::pclose(p);
        std::string dev = got ? buf : "";
        while (!dev.empty() && dev.back() == '\n') dev.pop_back();
        return dev;
    };
    auto detach = [](const std::string& dev) {
        EXPECT_EQ(std::system(("losetup -d " + dev).c_str()), 0) << dev;
    };
    const std::string dev1 = attach();
    if (dev1.empty()) GTEST_SKIP() << "no loop device (needs root and losetup)";
    // The same file on a second loop device while the first holds its number.
    const std::string dev2 = attach();
    auto d1 = open_file(dev1);
    auto d2 = dev2.empty() ? nullptr : open_file(dev2);
    detach(dev1);
    if (!dev2.empty()) detach(dev2);
    ASSERT_TRUE(d1 && d2);
    EXPECT_EQ(d1->uuid_origin(), bdev::id_origin::device);
    EXPECT_NE(d1->uuid_note().find("loop:" + img + "@0"), std::string::npos) << d1->uuid_note();
    EXPECT_NE(dev1, dev2);
    EXPECT_EQ(d2->uuid(), d1->uuid()) << dev1 << " and " << dev2;
    auto expect = bdev::name_based_uuid(bdev::derived_uuid_ns, "block:loop:" + img + "@0");
    ASSERT_TRUE(expect);
    EXPECT_EQ(d1->uuid(), *expect);  // the documented rule
}

// The identifiers a subsystem gives its namespaces.
class ns_ids : public ::testing::Test {
protected:
    std::shared_ptr<subsystem> make(const std::string& nqn) {
        auto s = tgt_.create_subsystem(nqn, subsystem_params{});
        EXPECT_TRUE(s) << s.err().message;
        return s ? *s : nullptr;
    }
    std::shared_ptr<bdev::block_device> ram(const std::string& name, const char* u = nullptr) {
        auto d = bdev::make_malloc(name, 64, 512);
        if (u != nullptr) d->set_uuid(uuid(u));
        return d;
    }
    static std::shared_ptr<ns> add(subsystem& s, std::shared_ptr<bdev::block_device> d,
                                   uint32_t nsid, ns_params p = {}) {
        p.nsid = nsid;
        auto r = s.add_ns(std::move(d), p);
        EXPECT_TRUE(r) << r.err().message;
        return s.ns_snapshot()->find(nsid);
    }

    reactor_group reactors_{std::vector<int>{}};
    target tgt_{reactors_};
};

TEST_F(ns_ids, derived_from_the_bdev_stable_and_never_shared) {
    const std::string q1 = "nqn.2016-06.io.spdk:cnode1", q2 = "nqn.2016-06.io.spdk:cnode2";
    auto s1 = make(q1), s2 = make(q2);
    ASSERT_TRUE(s1 && s2);
    auto x = ram("X", "01234567-89ab-4def-8123-456789abcdef");
    auto y = ram("Y"), z = ram("Z");
    // Several bdevs, NSIDs and subsystems; X behind two namespaces.
    std::vector<std::shared_ptr<ns>> all = {add(*s1, x, 1), add(*s1, y, 2), add(*s1, z, 7),
                                            add(*s2, x, 1), add(*s2, y, 3)};
    std::set<bdev::uuid_t> uuids;
    std::set<std::array<uint8_t, 16>> nguids;
    for (const auto& n : all) {
        ASSERT_TRUE(n);
        EXPECT_FALSE(bdev::uuid_is_null(n->uuid));
        EXPECT_EQ(n->nguid, n->uuid);  // SPDK's NGUID: the UUID's bytes
        EXPECT_FALSE(n->has_eui64);
        EXPECT_TRUE(n->ids_never_reused);
        EXPECT_NE(n->uuid, n->dev->uuid());  // the subsystem and NSID are in it
        uuids.insert(n->uuid);
        nguids.insert(n->nguid);
    }
    EXPECT_EQ(uuids.size(), all.size());
    EXPECT_EQ(nguids.size(), all.size());
    EXPECT_EQ(bdev::uuid_to_string(all[0]->uuid), "fbd4a30d-b3dd-5f37-a136-91c449760588");

    // The same bdev at the same place gives the same identifiers: what a
    // restart does (remove and add again here).
    const auto before = all[1]->uuid;
    ASSERT_TRUE(s1->remove_ns(2));
    EXPECT_EQ(add(*s1, y, 2)->uuid, before);
    ASSERT_TRUE(s1->remove_ns(2));
    EXPECT_NE(add(*s1, y, 4)->uuid, before);  // another NSID: another namespace
}

TEST_F(ns_ids, configured_identifiers_win) {
    auto s = make("nqn.2016-06.io.spdk:cnode1");
    ASSERT_TRUE(s);
    const auto u = uuid("6c7c4c1c-1111-4222-8333-444455556666");
    const std::array<uint8_t, 16> g{0xfe, 0xed, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
    const std::array<uint8_t, 8> e{0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};

    ns_params both;
    both.uuid = u;
    both.nguid = g;
    both.eui64 = e;
    auto n = add(*s, ram("A"), 1, both);
    EXPECT_EQ(n->uuid, u);
    EXPECT_EQ(n->nguid, g);
    EXPECT_TRUE(n->has_eui64);
    EXPECT_EQ(n->eui64, e);

    ns_params only_uuid;
    only_uuid.uuid = uuid("7c7c4c1c-1111-4222-8333-444455556666");
    n = add(*s, ram("B"), 2, only_uuid);
    EXPECT_EQ(n->nguid, *only_uuid.uuid);  // NGUID from the configured UUID

    ns_params only_nguid;
    only_nguid.nguid = g;
    auto c = ram("C", "01234567-89ab-4def-8123-456789abcdef");
    n = add(*s, c, 3, only_nguid);
    EXPECT_EQ(n->nguid, g);
    EXPECT_EQ(n->uuid, *derive_ns_uuid(c->uuid(), s->nqn, 3));

    // All-zero values are absent (SPDK reads them so): derived instead.
    ns_params zeros;
    zeros.uuid = bdev::uuid_t{};
    zeros.nguid = std::array<uint8_t, 16>{};
    zeros.eui64 = std::array<uint8_t, 8>{};
    auto d = ram("D");
    n = add(*s, d, 4, zeros);
    EXPECT_EQ(n->uuid, *derive_ns_uuid(d->uuid(), s->nqn, 4));
    EXPECT_EQ(n->nguid, n->uuid);
    EXPECT_FALSE(n->has_eui64);
}

// UIDREUSE (Identify Namespace NSFEAT bit 3) promises that the NGUID/EUI-64
// never name another namespace: not so when they derive from a path.
TEST_F(ns_ids, uidreuse_only_when_the_identifiers_cannot_come_back) {
    auto s = make("nqn.2016-06.io.spdk:cnode1");
    ASSERT_TRUE(s);
    auto by_path = ram("P");
    by_path->set_uuid(uuid("0d5f71a3-2a41-58c6-ac49-68173f9ee098"), bdev::id_origin::path,
                      "derived from path /x");
    auto n = add(*s, by_path, 1);
    EXPECT_FALSE(n->ids_never_reused);
    ns_params pinned;
    pinned.nguid = std::array<uint8_t, 16>{1};
    EXPECT_TRUE(add(*s, ram("Q"), 2, pinned)->ids_never_reused);
    for (auto origin : {bdev::id_origin::random, bdev::id_origin::configured,
                        bdev::id_origin::stored, bdev::id_origin::device}) {
        auto d = ram("R" + std::to_string(static_cast<int>(origin)));
        d->set_uuid(d->uuid(), origin, "test");
        const uint32_t nsid = 3 + static_cast<uint32_t>(origin);
        EXPECT_TRUE(add(*s, d, nsid)->ids_never_reused) << nsid;
    }

    cmd::identify_ns_input in;
    in.num_blocks = 64;
    in.nguid = n->nguid.data();
    in.uuid = n->uuid.data();
    in.ids_never_reused = false;
    EXPECT_EQ(cmd::build_identify_ns(in).nsfeat & spec::nsfeat::uidreuse, 0);
    in.ids_never_reused = true;
    EXPECT_EQ(cmd::build_identify_ns(in).nsfeat & spec::nsfeat::uidreuse, spec::nsfeat::uidreuse);
    in.nguid = nullptr;  // nothing to promise about
    EXPECT_EQ(cmd::build_identify_ns(in).nsfeat & spec::nsfeat::uidreuse, 0);
}

}  // namespace
}  // namespace nvmf::test
