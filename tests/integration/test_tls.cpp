// NVMe/TCP over TLS 1.3 (secure channel listeners) end to end, with our own
// initiator: I/O under each cipher suite and each record layer (kTLS where
// this kernel has it, OpenSSL's otherwise: both are asked for and the mode is
// checked against kernel_tls_available()), NVMe0R and NVMe1R identities,
// discovery over TLS and the TLS entries of the discovery log, and every
// refusal: a wrong key, an identity the target does not know, plain NVMe/TCP,
// bytes that are not TLS, a handshake that stalls, a Connect as another host
// or to another subsystem than the identity names, a host removed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "daemon_fixture.hpp"
#include "host/commands.hpp"
#include "host/discovery.hpp"
#include "temp_files.hpp"
#include "transport/tcp/tls.hpp"

namespace nvmf::test {
namespace {

using nlohmann::json;

const char* key32 = "NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:";
const char* key48 =
    "NVMeTLSkey-1:02:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwP/w0S89ELi3W2LxIcLXVsDn8kXZQ==:";
const char* key_other = "NVMeTLSkey-1:01:Vqpuh/pRESuNG9/2yUBuJemPNr1mCf6whRGWlMd3wsyylNYi:";
const char* host1 = "nqn.2016-06.io.spdk:host1";
const char* host2 = "nqn.2016-06.io.spdk:host2";
const char* host3 = "nqn.2016-06.io.spdk:host3";  // allowed, no PSK
const char* cnode2 = "nqn.2016-06.io.spdk:cnode2";

json method(const char* m, json params) { return {{"method", m}, {"params", std::move(params)}}; }

json address(const std::string& port) { return listen_address(port); }

class tls_test : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_FALSE(keys_.path().empty());
        keys_.write_key("key32", key32);
        keys_.write_key("key48", key48);
        ASSERT_TRUE(tgt.start_with([this](const std::string& port) { return config(port); }));
        plain_port_ = std::to_string(std::stoi(tgt.port()) + 1);
    }

    void TearDown() override { EXPECT_TRUE(tgt.stop()); }

    // cnode1 and cnode2 on a secure listener (port), discovery also on a plain
    // one (port + 1). host1 holds key32 on both, host2 key48 on cnode1, host3
    // is allowed on cnode1 without a PSK.
    virtual json config(const std::string& port) {
        const std::string plain = std::to_string(std::stoi(port) + 1);
        json nvmf = json::array();
        nvmf.push_back(method("nvmf_create_transport", {{"trtype", "TCP"}}));
        for (const char* nqn : {default_nqn, cnode2}) {
            nvmf.push_back(
                method("nvmf_create_subsystem",
                       {{"nqn", nqn}, {"allow_any_host", false}, {"serial_number", "TLS"}}));
            nvmf.push_back(
                method("nvmf_subsystem_add_ns",
                       {{"nqn", nqn},
                        {"namespace", {{"bdev_name", nqn == cnode2 ? "Malloc1" : "Malloc0"}}}}));
            nvmf.push_back(method(
                "nvmf_subsystem_add_listener",
                {{"nqn", nqn}, {"secure_channel", true}, {"listen_address", address(port)}}));
            nvmf.push_back(method("nvmf_subsystem_add_host",
                                  {{"nqn", nqn}, {"host", host1}, {"psk", "key32"}}));
        }
        nvmf.push_back(method("nvmf_subsystem_add_host",
                              {{"nqn", default_nqn}, {"host", host2}, {"psk", "key48"}}));
        nvmf.push_back(method("nvmf_subsystem_add_host", {{"nqn", default_nqn}, {"host", host3}}));
        nvmf.push_back(method("nvmf_subsystem_add_listener",
                              {{"nqn", spec::discovery_nqn}, {"listen_address", address(plain)}}));
        json sock = json::array({method(
            "sock_impl_set_options",
            {{"impl_name", "ssl"}, {"enable_ktls", ktls_}, {"handshake_timeout_ms", 1500}})});
        json keyring = json::array(
            {method("keyring_file_add_key", {{"name", "key32"}, {"path", keys_.file("key32")}}),
             method("keyring_file_add_key", {{"name", "key48"}, {"path", keys_.file("key48")}})});
        json bdev = json::array(
            {method("bdev_malloc_create",
                    {{"name", "Malloc0"}, {"num_blocks", 32768}, {"block_size", 512}}),
             method("bdev_malloc_create",
                    {{"name", "Malloc1"}, {"num_blocks", 4096}, {"block_size", 4096}})});
        return {{"subsystems", json::array({{{"subsystem", "keyring"}, {"config", keyring}},
                                            {{"subsystem", "sock"}, {"config", sock}},
                                            {{"subsystem", "bdev"}, {"config", bdev}},
                                            {{"subsystem", "nvmf"}, {"config", nvmf}}})}};
    }

    host::controller_options opts(const std::string& hostnqn, const std::string& psk,
                                  const std::string& subnqn = default_nqn) const {
        auto o = tgt.ctrlr_opts(subnqn);
        o.hostnqn = hostnqn;
        o.psk = psk;
        o.timeout_ms = 5000;
        return o;
    }

    std::unique_ptr<host::controller> connect(const host::controller_options& o) {
        auto c = host::controller::create(o);
        EXPECT_TRUE(c) << c.err().message << "\n" << tgt.log_tail();
        return c ? std::move(*c) : nullptr;
    }

    // Writes then reads back 4 KiB and 128 KiB (in-capsule data, R2T, C2H).
    void verify_io(host::controller& c, uint32_t seed) {
        const uint32_t bs = c.identify_ns(1)->lbaf[0].lbads == 12 ? 4096 : 512;
        for (size_t len : {size_t{4096}, size_t{131072}}) {
            const auto data = random_bytes(len, seed + static_cast<uint32_t>(len));
            const uint32_t nlb = static_cast<uint32_t>(len / bs);
            auto w = c.write(1, 8, nlb, data);
            ASSERT_TRUE(w) << w.err().message;
            ASSERT_TRUE(w->ok()) << st(*w);
            std::vector<uint8_t> back(len);
            auto r = c.read(1, 8, nlb, back);
            ASSERT_TRUE(r) << r.err().message;
            ASSERT_TRUE(r->ok()) << st(*r);
            EXPECT_EQ(back, data);
        }
    }

    // The TCP transport's counters summed over poll groups.
    json tls_counters() {
        auto s = tgt.rpc("nvmf_get_stats");
        json total = {{"tls_handshakes", 0},
                      {"tls_kernel", 0},
                      {"tls_failures", 0},
                      {"tls_timeouts", 0},
                      {"tls_handshakes_in_progress", 0}};
        for (const auto& g : s["result"]["poll_groups"]) {
            for (const auto& t : g["transports"]) {
                for (auto& [k, v] : total.items()) {
                    if (t.contains(k)) v = v.get<uint64_t>() + t[k].get<uint64_t>();
                }
            }
        }
        return total;
    }

    // Waits until the target closed fd (read returns 0 or an error).
    static bool closed_within(int fd, int ms) {
        timeval tv{ms / 1000, (ms % 1000) * 1000};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        char buf[4096];
        for (;;) {
            const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
            if (n == 0) return true;
            if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK;
        }
    }

    int raw_connect() const {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<uint16_t>(std::stoi(tgt.port())));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
        return fd;
    }

    void expect_still_serving() {
        ASSERT_TRUE(tgt.running()) << tgt.log_tail();
        auto c = connect(opts(host1, key32));
        ASSERT_TRUE(c);
        verify_io(*c, 99);
    }

public:
    // As target_test's: the tests use it by this name.
    daemon tgt;  // NOLINT(readability-identifier-naming)

protected:
    temp_dir keys_{"/tmp/nvmf-tls-keys"};
    std::string plain_port_;
    bool ktls_ = true;
};

TEST_F(tls_test, IoWithEachCipherSuite) {
    auto a = connect(opts(host1, key32));
    ASSERT_TRUE(a);
    ASSERT_TRUE(a->tls());
    EXPECT_EQ(a->tls()->creds.cipher, keyring::tls_cipher::aes_128_gcm_sha256);
    EXPECT_EQ(a->tls()->creds.identity, std::string("NVMe0R01 ") + host1 + " " + default_nqn);
    auto b = connect(opts(host2, key48));
    ASSERT_TRUE(b);
    EXPECT_EQ(b->tls()->creds.cipher, keyring::tls_cipher::aes_256_gcm_sha384);
    verify_io(*a, 1);
    verify_io(*b, 2);
    ASSERT_TRUE(a->add_io_queues(2));
    const auto counters = tls_counters();
    EXPECT_GE(counters["tls_handshakes"].get<uint64_t>(), 5u);  // 2 admin + 3 I/O queues
    EXPECT_EQ(counters["tls_failures"].get<uint64_t>(), 0u);
    EXPECT_FALSE(tgt.log_has("TLS handshake failed")) << tgt.log_tail();
}

TEST_F(tls_test, RecordLayerFollowsKernelAndOptions) {
    // The host asks for kTLS; whether it gets it depends on this kernel only.
    auto o = opts(host1, key32);
    o.ktls = true;
    auto k = connect(o);
    ASSERT_TRUE(k);
    EXPECT_EQ(k->admin().sock().tls_kernel(), tcp::kernel_tls_available())
        << k->admin().sock().tls_note();
    verify_io(*k, 3);
    // The target too (enable_ktls is on in this config).
    EXPECT_EQ(tls_counters()["tls_kernel"].get<uint64_t>() > 0, tcp::kernel_tls_available());
    // And without: OpenSSL's record layer on our side, same data.
    o.ktls = false;
    auto u = connect(o);
    ASSERT_TRUE(u);
    EXPECT_FALSE(u->admin().sock().tls_kernel());
    EXPECT_EQ(u->admin().sock().tls_note(), "kTLS disabled");
    verify_io(*u, 4);
    // The target's side can be turned off at run time (SPDK's option name).
    auto r = tgt.rpc("sock_impl_set_options", {{"impl_name", "ssl"}, {"enable_ktls", false}});
    ASSERT_TRUE(r.contains("result")) << r.dump();
    const auto before = tls_counters()["tls_kernel"].get<uint64_t>();
    auto v = connect(opts(host1, key32));
    ASSERT_TRUE(v);
    verify_io(*v, 5);
    EXPECT_EQ(tls_counters()["tls_kernel"].get<uint64_t>(), before);
    auto got = tgt.rpc("sock_impl_get_options", {{"impl_name", "ssl"}});
    EXPECT_EQ(got["result"]["enable_ktls"], false) << got.dump();
}

TEST_F(tls_test, IdentityVersion1WithDigest) {
    auto o = opts(host2, key48);
    o.psk_identity_version = 1;
    auto c = connect(o);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->tls()->creds.identity.rfind("NVMe1R02 ", 0), 0u) << c->tls()->creds.identity;
    verify_io(*c, 6);
}

TEST_F(tls_test, WrongKeyIsRefused) {
    auto c = host::controller::create(opts(host1, key_other));
    ASSERT_FALSE(c);
    EXPECT_NE(c.err().message.find("TLS handshake"), std::string::npos) << c.err().message;
    // host2's key belongs to host2: host1 offering it is refused too.
    auto d = host::controller::create(opts(host1, key48));
    ASSERT_FALSE(d);
    EXPECT_GE(tls_counters()["tls_failures"].get<uint64_t>(), 2u);
    EXPECT_TRUE(tgt.log_shows("TLS handshake failed"));
    expect_still_serving();
}

TEST_F(tls_test, UnknownIdentityIsRefused) {
    // host3 is allowed but has no PSK; host9 is not allowed at all.
    for (const char* h : {host3, "nqn.2016-06.io.spdk:host9"}) {
        auto c = host::controller::create(opts(h, key32));
        ASSERT_FALSE(c) << h;
        EXPECT_NE(c.err().message.find("TLS"), std::string::npos) << c.err().message;
    }
    EXPECT_TRUE(tgt.log_shows("has no PSK on " + std::string(default_nqn)));
    EXPECT_TRUE(tgt.log_shows("is not allowed on"));
    expect_still_serving();
}

TEST_F(tls_test, PlainTcpOnSecureListenerIsRefused) {
    auto c = host::controller::create(opts(host1, ""));
    ASSERT_FALSE(c);
    EXPECT_TRUE(tgt.log_shows("plain NVMe/TCP (an ICReq) on a secure channel listener"));
    EXPECT_GE(tls_counters()["tls_failures"].get<uint64_t>(), 1u);
    expect_still_serving();
}

TEST_F(tls_test, GarbageInsteadOfHandshakeIsDropped) {
    const auto junk = random_bytes(3000, 7);
    for (size_t len : {size_t{1}, size_t{5}, size_t{300}, junk.size()}) {
        const int fd = raw_connect();
        ASSERT_EQ(::send(fd, junk.data(), len, MSG_NOSIGNAL), static_cast<ssize_t>(len));
        // A few bytes the TLS layer waits on until the deadline; the rest fail at once.
        EXPECT_TRUE(closed_within(fd, 5000)) << len << " bytes of garbage kept the socket open";
        ::close(fd);
    }
    // A record header announcing a ClientHello, then nothing.
    const uint8_t hello[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03};
    const int fd = raw_connect();
    ASSERT_EQ(::send(fd, hello, sizeof(hello), MSG_NOSIGNAL), static_cast<ssize_t>(sizeof(hello)));
    EXPECT_TRUE(closed_within(fd, 5000));
    ::close(fd);
    expect_still_serving();
}

TEST_F(tls_test, StalledHandshakeTimesOutAndFreesTheSocket) {
    // handshake_timeout_ms is 1500 in this config.
    std::vector<int> fds;
    fds.reserve(5);
    for (int i = 0; i < 5; ++i) fds.push_back(raw_connect());
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(tls_counters()["tls_handshakes_in_progress"].get<uint64_t>(), 5u);
    const auto t0 = std::chrono::steady_clock::now();
    for (int fd : fds) {
        EXPECT_TRUE(closed_within(fd, 5000));
        ::close(fd);
    }
    const auto waited = std::chrono::steady_clock::now() - t0;
    EXPECT_LT(waited, std::chrono::seconds(4));
    const auto c = tls_counters();
    EXPECT_EQ(c["tls_timeouts"].get<uint64_t>(), 5u);
    EXPECT_EQ(c["tls_handshakes_in_progress"].get<uint64_t>(), 0u);
    EXPECT_TRUE(tgt.log_shows("no TLS handshake within 1500 ms"));
    auto stats = sum_poll_groups(tgt.rpc("nvmf_get_stats"));
    EXPECT_EQ(stats["current_connections"].get<uint64_t>(), 0u) << stats.dump();
    expect_still_serving();
}

TEST_F(tls_test, ConnectMustMatchTheIdentity) {
    // A TLS session opened as host1 for cnode1, then Connect as host3 (allowed
    // on cnode1, without a PSK) or to cnode2: refused.
    auto c = opts(host1, key32);
    auto ctl = host::controller(c);
    auto q = ctl.open_queue(32, 8192);
    ASSERT_TRUE(q) << q.err().message;
    std::array<uint8_t, 16> hostid{};
    hostid[0] = 1;
    auto r = host::fabrics_connect(**q, 0, 31, 0, hostid, spec::cntlid_dynamic, host3, default_nqn);
    ASSERT_TRUE(r) << r.err().message;
    EXPECT_EQ(r->sct(), spec::sct::command_specific);
    EXPECT_EQ(r->sc(), spec::sc_cmd::connect_invalid_host);
    auto q2 = ctl.open_queue(32, 8192);
    ASSERT_TRUE(q2);
    auto r2 = host::fabrics_connect(**q2, 0, 31, 0, hostid, spec::cntlid_dynamic, host1, cnode2);
    ASSERT_TRUE(r2) << r2.err().message;
    EXPECT_EQ(r2->sc(), spec::sc_cmd::connect_invalid_parameters);
    EXPECT_TRUE(tgt.log_shows("the TLS PSK identity is for"));
    // The same identity's own subsystem connects (and host1 has its own key on cnode2).
    auto ok = connect(opts(host1, key32, cnode2));
    ASSERT_TRUE(ok);
    verify_io(*ok, 8);
}

TEST_F(tls_test, DiscoveryOverTlsAndTheLogSaysTls) {
    // The discovery NQN on the secure address, with host1's key.
    auto o = opts(host1, key32, spec::discovery_nqn);
    o.kato_ms = 0;
    auto d = connect(o);
    ASSERT_TRUE(d);
    auto log = host::get_discovery_log(*d);
    ASSERT_TRUE(log) << log.err().message;
    size_t secure_entries = 0;
    for (const auto& e : log->entries) {
        const std::string port = host::field_string(e.trsvcid, sizeof(e.trsvcid));
        if (port != tgt.port()) continue;
        EXPECT_EQ(e.treq & 0x3, spec::treq::secure_channel_required);
        EXPECT_EQ(e.tsas[0], spec::tcp_sectype::tls13);
        ++secure_entries;
    }
    EXPECT_EQ(secure_entries, 3u);  // cnode1, cnode2, and the discovery controller itself
    // The plain discovery address lists them the same way.
    auto p = tgt.ctrlr_opts(spec::discovery_nqn);
    p.trsvcid = plain_port_;
    p.hostnqn = host1;
    p.kato_ms = 0;
    auto pd = connect(p);
    ASSERT_TRUE(pd);
    auto plog = host::get_discovery_log(*pd);
    ASSERT_TRUE(plog);
    for (const auto& e : plog->entries) {
        const std::string port = host::field_string(e.trsvcid, sizeof(e.trsvcid));
        const bool secure = port == tgt.port();
        EXPECT_EQ(e.treq & 0x3, secure ? spec::treq::secure_channel_required
                                       : spec::treq::secure_channel_not_required);
        EXPECT_EQ(e.tsas[0], secure ? spec::tcp_sectype::tls13 : spec::tcp_sectype::none);
    }
}

TEST_F(tls_test, RemovedHostLosesItsKeyAndLiveAddWorks) {
    auto r = tgt.rpc("nvmf_subsystem_remove_host", {{"nqn", default_nqn}, {"host", host2}});
    ASSERT_TRUE(r.contains("result")) << r.dump();
    EXPECT_FALSE(host::controller::create(opts(host2, key48)));
    // Back, with another key, while the target runs.
    keys_.write_key("other", key_other);
    r = tgt.rpc("keyring_file_add_key", {{"name", "other"}, {"path", keys_.file("other")}});
    ASSERT_TRUE(r.contains("result")) << r.dump();
    r = tgt.rpc("nvmf_subsystem_add_host",
                {{"nqn", default_nqn}, {"host", host2}, {"psk", "other"}});
    ASSERT_TRUE(r.contains("result")) << r.dump();
    EXPECT_FALSE(host::controller::create(opts(host2, key48)));
    auto c = connect(opts(host2, key_other));
    ASSERT_TRUE(c);
    verify_io(*c, 9);
    // nvmf_get_subsystems names the key, never its bytes.
    const auto subs = tgt.rpc("nvmf_get_subsystems").dump();
    EXPECT_NE(subs.find("\"psk\":\"other\""), std::string::npos) << subs;
    EXPECT_EQ(subs.find("VRLbtnN9"), std::string::npos);
    EXPECT_EQ(subs.find("Vqpuh"), std::string::npos);
}

TEST_F(tls_test, RpcRulesAndSaveConfig) {
    // A key file others can read is refused, as SPDK refuses it.
    keys_.write_key("loose", key32);
    ::chmod(keys_.file("loose").c_str(), 0644);
    auto r = tgt.rpc("keyring_file_add_key", {{"name", "loose"}, {"path", keys_.file("loose")}});
    EXPECT_TRUE(r.contains("error")) << r.dump();
    // A key that is not a PSK is refused at add_host, and the error shows no key bytes.
    // A DH-HMAC-CHAP secret is a valid keyring entry but not a PSK.
    keys_.write_key("junk", "DHHC-1:00:ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ2n:");
    r = tgt.rpc("keyring_file_add_key", {{"name", "junk"}, {"path", keys_.file("junk")}});
    ASSERT_TRUE(r.contains("result")) << r.dump();
    r = tgt.rpc("nvmf_subsystem_add_host", {{"nqn", cnode2}, {"host", host2}, {"psk", "junk"}});
    ASSERT_TRUE(r.contains("error")) << r.dump();
    EXPECT_EQ(r.dump().find("ia6zGodOr4"), std::string::npos) << r.dump();
    // One address is TLS or not for every subsystem on it.
    r = tgt.rpc("nvmf_create_subsystem", {{"nqn", "nqn.2016-06.io.spdk:cnode3"}});
    ASSERT_TRUE(r.contains("result")) << r.dump();
    r = tgt.rpc("nvmf_subsystem_add_listener",
                {{"nqn", "nqn.2016-06.io.spdk:cnode3"}, {"listen_address", address(tgt.port())}});
    ASSERT_TRUE(r.contains("error")) << r.dump();
    EXPECT_NE(r["error"]["message"].get<std::string>().find("secure channel"), std::string::npos);
    // The listeners say they are secure.
    r = tgt.rpc("nvmf_subsystem_get_listeners", {{"nqn", default_nqn}});
    ASSERT_EQ(r["result"].size(), 1u) << r.dump();
    EXPECT_EQ(r["result"][0]["secure_channel"], true);
    // save_config: keys by name and path, secure_channel, psk names; loads back.
    const auto cfg = tgt.rpc("save_config")["result"];
    const std::string text = cfg.dump();
    EXPECT_NE(text.find("keyring_file_add_key"), std::string::npos);
    EXPECT_NE(text.find("\"secure_channel\":true"), std::string::npos);
    EXPECT_NE(text.find("\"psk\":\"key48\""), std::string::npos);
    EXPECT_EQ(text.find("VRLbtnN9"), std::string::npos) << "key material in save_config";
    EXPECT_TRUE(tgt.stop());
    ASSERT_TRUE(tgt.start_json(cfg, tgt.port()));
    auto c = connect(opts(host2, key48));
    ASSERT_TRUE(c);
    verify_io(*c, 10);
    EXPECT_EQ(tgt.rpc("save_config")["result"], cfg);
}

TEST_F(tls_test, NvmfRpcSetsUpTls) {
    // The rpc.py-style arguments of nvmf-rpc for the same set-up, live.
    const std::string tool = std::string(NVMF_BUILD_DIR) + "/nvmf-rpc -s " + tgt.rpc_path() + " ";
    const std::string nqn = "nqn.2016-06.io.spdk:cnode9";
    keys_.write_key("k9", key_other);
    int rc = -1;
    const std::vector<std::string> steps = {
        "keyring_file_add_key k9 " + keys_.file("k9"),
        "nvmf_create_subsystem " + nqn + " -s SN9",
        "nvmf_subsystem_add_ns " + nqn + " Malloc1",
        "nvmf_subsystem_add_host " + nqn + " " + host2 + " --psk k9",
        "nvmf_subsystem_add_listener " + nqn + " -t tcp -a 127.0.0.1 -s " + tgt.port() + " -k",
        "sock_impl_set_options -i ssl --no-ktls"};
    for (const auto& args : steps) {
        const auto out = run_command(tool + args + " 2>&1", &rc);
        ASSERT_EQ(rc, 0) << args << ": " << out;
    }
    const auto keys = run_command(tool + "keyring_get_keys 2>&1", &rc);
    EXPECT_NE(keys.find("\"k9\""), std::string::npos) << keys;
    const auto ssl = run_command(tool + "sock_impl_get_options -i ssl 2>&1", &rc);
    EXPECT_NE(ssl.find("\"enable_ktls\": false"), std::string::npos) << ssl;
    auto c = connect(opts(host2, key_other, nqn));
    ASSERT_TRUE(c);
    verify_io(*c, 12);
}

TEST_F(tls_test, NvmeCliKeysLoadAndConnect) {
    int rc = -1;
    run_command("command -v nvme", &rc);
    if (rc != 0) GTEST_SKIP() << "nvme-cli is not installed (scripts/deps installs it)";
    for (int hmac : {1, 2}) {
        // nvme-cli makes the key and says what it holds...
        std::string key = run_command("nvme gen-tls-key --hmac=" + std::to_string(hmac), &rc);
        ASSERT_EQ(rc, 0) << key;
        while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
        const auto check = run_command("nvme check-tls-key --key='" + key + "' 2>&1", &rc);
        ASSERT_EQ(rc, 0) << check;
        unsigned got_hmac = 0, got_len = 0, got_crc = 0;
        ASSERT_EQ(std::sscanf(check.c_str(), "Key is valid (HMAC %u, length %u, CRC %x)", &got_hmac,
                              &got_len, &got_crc),
                  3)
            << check;
        // ...and we read the same from it.
        auto psk = keyring::parse_interchange(key);
        ASSERT_TRUE(psk) << psk.err().message;
        EXPECT_EQ(static_cast<unsigned>(psk->hash), got_hmac);
        EXPECT_EQ(psk->key.size(), got_len);
        EXPECT_EQ(keyring::interchange_crc(psk->key.span()), got_crc);
        // The file as nvme-cli printed it (a newline at the end) loads into the keyring.
        const std::string name = "nvmecli" + std::to_string(hmac);
        keys_.write_key(name, key);
        auto r = tgt.rpc("keyring_file_add_key", {{"name", name}, {"path", keys_.file(name)}});
        ASSERT_TRUE(r.contains("result")) << r.dump();
        const std::string host = "nqn.2016-06.io.spdk:nvmecli" + std::to_string(hmac);
        r = tgt.rpc("nvmf_subsystem_add_host",
                    {{"nqn", default_nqn}, {"host", host}, {"psk", name}});
        ASSERT_TRUE(r.contains("result")) << r.dump();
        auto c = connect(opts(host, key));
        ASSERT_TRUE(c);
        EXPECT_EQ(c->tls()->creds.cipher, hmac == 1 ? keyring::tls_cipher::aes_128_gcm_sha256
                                                    : keyring::tls_cipher::aes_256_gcm_sha384);
        verify_io(*c, 20 + static_cast<uint32_t>(hmac));
    }
}

// The same with enable_ktls off on the target from the start.
class tls_no_ktls_test : public tls_test {
protected:
    json config(const std::string& port) override {
        ktls_ = false;
        return tls_test::config(port);
    }
};

TEST_F(tls_no_ktls_test, OpenSslRecordLayerOnTheTarget) {
    auto o = opts(host1, key32);
    auto c = connect(o);
    ASSERT_TRUE(c);
    verify_io(*c, 11);
    EXPECT_EQ(tls_counters()["tls_kernel"].get<uint64_t>(), 0u);
    auto got = tgt.rpc("sock_impl_get_options", {{"impl_name", "ssl"}});
    EXPECT_EQ(got["result"]["enable_ktls"], false) << got.dump();
}

}  // namespace
}  // namespace nvmf::test
