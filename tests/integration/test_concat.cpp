// Secure channel concatenation end to end (NVMe Base 2.1): the daemon with a
// secure_concat listener, our host library with concat. A host authenticates
// its admin queue over plain TCP with DH-HMAC-CHAP asking for a new TLS PSK
// (SC_C NEWTLSPSK), reconnects over TLS with the PSK both sides generated
// (identity NVMe1G) and does I/O there. Then REPLACETLSPSK, and every
// refusal: SC_C on an I/O queue, NEWTLSPSK over TLS, REPLACETLSPSK without
// TLS, the null DH group, SHA-512, the obsolete SC_C 01h, no SC_C on the
// plain connection, a wrong key, a host without a key, a plain I/O queue,
// commands other than authentication on the plain connection, a generated
// PSK used by another host, one that was replaced or whose host's keys
// rotated. No other implementation can judge this here (Debian's 6.1 kernel
// has no NVMe authentication or TLS; SPDK refuses concatenation).
#include <sys/stat.h>

#include <fstream>

#include "auth/generated_psk.hpp"
#include "auth/messages.hpp"
#include "daemon_fixture.hpp"
#include "host/auth.hpp"
#include "host/commands.hpp"
#include "host/discovery.hpp"
#include "keyring/dhchap_secret.hpp"
#include "nvme/spec/auth.hpp"
#include "temp_files.hpp"

namespace nvmf::test {
namespace {

namespace rce = spec::auth_rce;
namespace scc = spec::auth_scc;
using nlohmann::json;

const char* host1 = "nqn.2014-08.org.nvmexpress:uuid:0c0c0c0c-1111-4222-8333-444444444441";
const char* host2 = "nqn.2014-08.org.nvmexpress:uuid:0c0c0c0c-1111-4222-8333-444444444442";
const char* host3 = "nqn.2014-08.org.nvmexpress:uuid:0c0c0c0c-1111-4222-8333-444444444443";
const char* cnode2 = "nqn.2016-06.io.spdk:cnode2";  // on a plain listener only
const char* psk3 = "NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:";

json method(const char* m, json params) { return {{"method", m}, {"params", std::move(params)}}; }

bool ok(const json& r) { return r.contains("result") && !r.contains("error"); }

std::string secret_text(uint8_t seed, uint8_t hash, size_t len) {
    std::vector<uint8_t> raw(len);
    for (size_t i = 0; i < len; ++i) raw[i] = static_cast<uint8_t>(seed * 29 + i * 11);
    auto t = keyring::format_dhchap_secret(hash, raw);
    return {reinterpret_cast<const char*>(t->data()), t->size()};
}

class concat_test : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_FALSE(keys_.path().empty());
        keys_.write_key("hkey1", secret_text(1, 1, 32));
        keys_.write_key("ckey1", secret_text(2, 2, 48));
        keys_.write_key("hkey2", secret_text(3, 1, 32));
        keys_.write_key("hkey1b", secret_text(4, 1, 32));
        keys_.write_key("psk3", psk3);
        ASSERT_TRUE(tgt.start_with([this](const std::string& port) { return config(port); }));
        plain_port_ = std::to_string(std::stoi(tgt.port()) + 1);
    }

    void TearDown() override { EXPECT_TRUE(tgt.stop()); }

    static std::shared_ptr<const keyring::dhchap_secret> secret(uint8_t seed, uint8_t hash,
                                                                size_t len) {
        return *host::load_dhchap_secret(secret_text(seed, hash, len));
    }

    // cnode1 on a secure_concat listener (port): host1 with hkey1 and the
    // controller key ckey1, host2 with hkey2, host3 with a configured PSK
    // and no DH-HMAC-CHAP key. cnode2 on a plain listener (port + 1) only,
    // host1 with hkey1.
    json config(const std::string& port) {
        const std::string plain = std::to_string(std::stoi(port) + 1);
        json nvmf = json::array();
        nvmf.push_back(method("nvmf_create_transport", {{"trtype", "TCP"}}));
        for (const char* nqn : {default_nqn, cnode2}) {
            nvmf.push_back(
                method("nvmf_create_subsystem",
                       {{"nqn", nqn}, {"allow_any_host", false}, {"serial_number", "CONCAT"}}));
            nvmf.push_back(
                method("nvmf_subsystem_add_ns",
                       {{"nqn", nqn},
                        {"namespace", {{"bdev_name", nqn == cnode2 ? "Malloc1" : "Malloc0"}}}}));
        }
        nvmf.push_back(
            method("nvmf_subsystem_add_listener", {{"nqn", default_nqn},
                                                   {"secure_concat", true},
                                                   {"listen_address", listen_address(port)}}));
        nvmf.push_back(method("nvmf_subsystem_add_listener",
                              {{"nqn", cnode2}, {"listen_address", listen_address(plain)}}));
        nvmf.push_back(method("nvmf_subsystem_add_host", {{"nqn", default_nqn},
                                                          {"host", host1},
                                                          {"dhchap_key", "hkey1"},
                                                          {"dhchap_ctrlr_key", "ckey1"}}));
        nvmf.push_back(method("nvmf_subsystem_add_host",
                              {{"nqn", default_nqn}, {"host", host2}, {"dhchap_key", "hkey2"}}));
        nvmf.push_back(method("nvmf_subsystem_add_host",
                              {{"nqn", default_nqn}, {"host", host3}, {"psk", "psk3"}}));
        nvmf.push_back(method("nvmf_subsystem_add_host",
                              {{"nqn", cnode2}, {"host", host1}, {"dhchap_key", "hkey1"}}));
        json keyring = json::array();
        for (const char* k : {"hkey1", "ckey1", "hkey2", "hkey1b", "psk3"}) {
            keyring.push_back(
                method("keyring_file_add_key", {{"name", k}, {"path", keys_.file(k)}}));
        }
        json sock = json::array({method(
            "sock_impl_set_options",
            {{"impl_name", "ssl"}, {"enable_ktls", true}, {"handshake_timeout_ms", 2000}})});
        json bdev =
            json::array({method("bdev_malloc_create",
                                {{"name", "Malloc0"}, {"num_blocks", 32768}, {"block_size", 512}}),
                         method("bdev_malloc_create",
                                {{"name", "Malloc1"}, {"num_blocks", 4096}, {"block_size", 512}})});
        return {{"subsystems", json::array({{{"subsystem", "keyring"}, {"config", keyring}},
                                            {{"subsystem", "sock"}, {"config", sock}},
                                            {{"subsystem", "bdev"}, {"config", bdev}},
                                            {{"subsystem", "nvmf"}, {"config", nvmf}}})}};
    }

    // host1 (or another) concatenating on cnode1.
    host::controller_options opts(const char* hostnqn = host1, bool concat = true) const {
        auto o = tgt.ctrlr_opts();
        o.hostnqn = hostnqn;
        o.timeout_ms = 5000;
        o.concat = concat;
        o.auth.key = std::string(hostnqn) == host2 ? secret(3, 1, 32) : secret(1, 1, 32);
        return o;
    }

    std::unique_ptr<host::controller> connect(const host::controller_options& o) {
        auto c = host::controller::create(o);
        EXPECT_TRUE(c) << c.err().message << "\n" << tgt.log_tail();
        return c ? std::move(*c) : nullptr;
    }

    void verify_io(host::controller& c, uint32_t seed, size_t qi = 0) {
        for (size_t len : {size_t{4096}, size_t{131072}}) {
            const auto data = random_bytes(len, seed + static_cast<uint32_t>(len));
            const auto nlb = static_cast<uint32_t>(len / 512);
            auto w = c.write(1, 16, nlb, data, qi);
            ASSERT_TRUE(w && w->ok()) << (w ? st(*w) : w.err().message);
            std::vector<uint8_t> back(len);
            auto r = c.read(1, 16, nlb, back, qi);
            ASSERT_TRUE(r && r->ok()) << (r ? st(*r) : r.err().message);
            EXPECT_EQ(back, data);
        }
    }

    uint64_t tls_handshakes() {
        uint64_t n = 0;
        const json stats = tgt.rpc("nvmf_get_stats");
        for (const auto& g : stats["result"]["poll_groups"]) {
            for (const auto& t : g["transports"]) {
                if (t.contains("tls_handshakes")) n += t["tls_handshakes"].get<uint64_t>();
            }
        }
        return n;
    }

    // A plain TCP queue to port, Connect done; cdw0 of the response.
    std::unique_ptr<host::queue> plain_admin(const char* hostnqn, const std::string& subnqn,
                                             uint32_t* cdw0, const std::string& port = {},
                                             uint16_t qid = 0, spec::status* status = nullptr) {
        auto q = std::make_unique<host::queue>(tgt.queue_opts());
        if (auto r = q->open("127.0.0.1", port.empty() ? tgt.port() : port); !r) {
            ADD_FAILURE() << r.err().message;
            return nullptr;
        }
        std::array<uint8_t, 16> hostid{};
        hostid[0] = 1;
        auto c = host::fabrics_connect(*q, qid, 31, 0, hostid, qid ? 1 : spec::cntlid_dynamic,
                                       hostnqn, subnqn);
        if (!c) {
            ADD_FAILURE() << c.err().message;
            return nullptr;
        }
        if (status) *status = c->status();
        if (cdw0) *cdw0 = c->cqe.cdw0;
        return q;
    }

    static host::auth_options auth_of(std::shared_ptr<const keyring::dhchap_secret> k) {
        host::auth_options a;
        a.key = std::move(k);
        return a;
    }

    // The Failure1 reason a raw AUTH_Negotiate gets on q.
    static int failure1_for(host::queue& q, const std::vector<uint8_t>& negotiate) {
        auto c = q.execute(host::auth_send_cmd(static_cast<uint32_t>(negotiate.size())), negotiate);
        if (!c || !c->ok()) return -1;
        std::vector<uint8_t> b(4096);
        auto r = q.execute(host::auth_recv_cmd(4096), {}, b);
        if (!r || !r->ok()) return -2;
        auto f = auth::parse_failure1(b);
        return f ? f->rce : -3;
    }

    static bool says(const error& e, uint8_t reason) {
        return e.message.find(auth::rce_name(reason)) != std::string::npos;
    }

    daemon tgt;  // NOLINT(readability-identifier-naming)
    temp_dir keys_{"/tmp/nvmf-concat-keys"};
    std::string plain_port_;
};

TEST_F(concat_test, admin_authenticates_in_plain_then_everything_goes_over_tls) {
    for (uint8_t hash : {auth::hash_id::sha256, auth::hash_id::sha384}) {
        for (bool two_way : {false, true}) {
            SCOPED_TRACE(std::string(auth::hash_name(hash)) + (two_way ? " two-way" : ""));
            auto o = opts();
            o.auth.digests = {hash};
            o.auth.dhgroups = {hash == auth::hash_id::sha256 ? auth::dhgroup_id::ffdhe2048
                                                             : auth::dhgroup_id::ffdhe3072};
            if (two_way) o.auth.ctrl_key = secret(2, 2, 48);
            o.num_io_queues = 2;
            const uint64_t before = tls_handshakes();
            auto c = connect(o);
            ASSERT_TRUE(c);
            ASSERT_TRUE(c->tls());
            const std::string prefix = std::string("NVMe1G0") + std::to_string(hash) + " " + host1 +
                                       " " + default_nqn + " ";
            EXPECT_EQ(c->tls()->creds.identity.rfind(prefix, 0), 0u) << c->tls()->creds.identity;
            ASSERT_TRUE(c->admin_auth());
            EXPECT_EQ(c->admin_auth()->hash, hash);
            EXPECT_EQ(c->admin_auth()->sc_c, scc::new_tls_psk);
            EXPECT_EQ(c->admin_auth()->bidirectional, two_way);
            EXPECT_TRUE(c->admin().sock().tls());
            EXPECT_TRUE(c->io(0).sock().tls());
            // The TLS admin queue and both I/O queues: three handshakes.
            EXPECT_EQ(tls_handshakes() - before, 3u);
            verify_io(*c, hash * 10 + (two_way ? 1 : 0), 0);
            verify_io(*c, hash * 10 + 5, 1);
            EXPECT_TRUE(tgt.log_shows("secure channel concatenation: generated a TLS PSK"));
        }
    }
    // Key material never reaches the log (the identity does: it is sent in
    // clear in every ClientHello).
    EXPECT_FALSE(tgt.log_has(secret_text(1, 1, 32).substr(10, 20)));
}

TEST_F(concat_test, the_plain_connection_is_for_authentication_alone) {
    uint32_t cdw0 = 0;
    auto q = plain_admin(host1, default_nqn, &cdw0);
    ASSERT_TRUE(q);
    EXPECT_NE(cdw0 & spec::authreq::atr, 0u);
    EXPECT_NE(cdw0 & spec::authreq::ascr, 0u);
    // Before: Authentication Required.
    std::vector<uint8_t> id(4096);
    auto c = q->execute(host::cmd::identify(spec::cns::ctrlr, 0), {}, id);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->sct(), spec::sct::command_specific);
    EXPECT_EQ(c->sc(), spec::sc_cmd::auth_required);
    auto a =
        host::authenticate(*q, auth_of(secret(1, 1, 32)), host1, default_nqn, 3, scc::new_tls_psk);
    ASSERT_TRUE(a) << a.err().message;
    ASSERT_TRUE(a->generated);
    // After: still nothing but authentication on this connection.
    c = q->execute(host::cmd::identify(spec::cns::ctrlr, 0), {}, id);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->sct(), spec::sct::generic);
    EXPECT_EQ(c->sc(), spec::sc::command_sequence_error);
    EXPECT_TRUE(c->dnr());
    c = q->execute(host::cmd::property_get(spec::prop::cap, true));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->sc(), spec::sc::command_sequence_error);
    // The PSK it generated opens a TLS controller.
    auto o = opts();
    auto tc = std::make_unique<host::controller>(o);
    tc->set_tls_credentials(*a->generated);
    ASSERT_TRUE(tc->connect_admin()) << tgt.log_tail();
    EXPECT_FALSE(tc->admin_auth());  // no ATR over a generated PSK
    ASSERT_TRUE(tc->enable());
    ASSERT_TRUE(tc->identify_controller());
    ASSERT_TRUE(tc->add_io_queues(1));
    verify_io(*tc, 7);
}

TEST_F(concat_test, plain_connections_that_cannot_concatenate_are_refused) {
    spec::status s{};
    uint32_t cdw0 = 0;
    // An I/O queue in plain TCP: I/O goes over TLS.
    auto io = plain_admin(host1, default_nqn, &cdw0, {}, 1, &s);
    ASSERT_TRUE(io);
    EXPECT_EQ(spec::status_sc(s), spec::sc_cmd::connect_invalid_parameters);
    // A host without a DH-HMAC-CHAP key cannot generate a PSK.
    auto nokey = plain_admin(host3, default_nqn, &cdw0, {}, 0, &s);
    ASSERT_TRUE(nokey);
    EXPECT_EQ(spec::status_sc(s), spec::sc_cmd::connect_invalid_host);
    // Nor can a host that does not ask for concatenation (the library says
    // so on ASCR, as the Linux host without --concat).
    auto o = opts(host1, false);
    auto c = host::controller::create(o);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.err().code, -EOPNOTSUPP) << c.err().message;
    // Discovery stays open in plain TCP, as Linux's "not required" port.
    auto dopts = tgt.ctrlr_opts(spec::discovery_nqn);
    dopts.hostnqn = host1;  // the log lists what this host may reach
    auto d = host::controller::create(dopts);
    ASSERT_TRUE(d) << d.err().message;
    auto log = host::get_discovery_log(**d);
    ASSERT_TRUE(log) << log.err().message;
    bool found = false;
    for (const auto& e : log->entries) {
        if (std::string(e.subnqn) != default_nqn) continue;
        found = true;
        // TLS 1.3, not required: what makes libnvme connect with --concat.
        EXPECT_EQ(e.treq & 0x3, spec::treq::secure_channel_not_required);
        EXPECT_EQ(e.tsas[0], spec::tcp_sectype::tls13);
    }
    EXPECT_TRUE(found);
}

TEST_F(concat_test, sc_c_refusals) {
    const auto key1 = auth_of(secret(1, 1, 32));
    // No SC_C on the plain connection of a secure_concat listener.
    {
        uint32_t cdw0 = 0;
        auto q = plain_admin(host1, default_nqn, &cdw0);
        ASSERT_TRUE(q);
        auto a = host::authenticate(*q, key1, host1, default_nqn, 1, scc::none);
        ASSERT_FALSE(a);
        EXPECT_TRUE(says(a.err(), rce::scc_mismatch)) << a.err().message;
    }
    // The null DH group, SHA-512 only, the obsolete 01h, an undefined value.
    const uint8_t all_h[] = {1, 2}, only512[] = {3}, groups[] = {1, 2}, only_null[] = {0};
    struct {
        std::vector<uint8_t> msg;
        int reason;
    } raw[] = {
        {auth::build_negotiate(1, scc::new_tls_psk, all_h, only_null), rce::scc_mismatch},
        {auth::build_negotiate(1, scc::new_tls_psk, only512, groups), rce::hash_unusable},
        {auth::build_negotiate(1, scc::obsolete_tls, all_h, groups), rce::scc_mismatch},
        {auth::build_negotiate(1, 7, all_h, groups), rce::scc_mismatch},
    };
    for (auto& r : raw) {
        uint32_t cdw0 = 0;
        auto q = plain_admin(host1, default_nqn, &cdw0);
        ASSERT_TRUE(q);
        EXPECT_EQ(failure1_for(*q, r.msg), r.reason);
    }
    // REPLACETLSPSK without TLS, and NEWTLSPSK where no listener of the
    // subsystem takes TLS (cnode2's plain listener).
    for (uint8_t v : {scc::replace_tls_psk, scc::new_tls_psk}) {
        uint32_t cdw0 = 0;
        auto q = plain_admin(host1, cnode2, &cdw0, plain_port_);
        ASSERT_TRUE(q);
        EXPECT_EQ(cdw0 & spec::authreq::ascr, 0u);
        auto a = host::authenticate(*q, key1, host1, cnode2, 1, v);
        ASSERT_FALSE(a);
        EXPECT_TRUE(says(a.err(), rce::scc_mismatch)) << a.err().message;
    }
    // Over TLS (a generated PSK): NEWTLSPSK on the admin queue, and any SC_C
    // on an I/O queue.
    auto c = connect(opts());
    ASSERT_TRUE(c);
    for (uint8_t v : {scc::new_tls_psk, scc::replace_tls_psk}) {
        auto q = c->open_queue(32, 0);
        ASSERT_TRUE(q);
        auto conn = c->connect_io(**q, 2, 31);
        ASSERT_TRUE(conn && conn->ok());
        auto a = host::authenticate(**q, key1, host1, default_nqn, 9, v);
        ASSERT_FALSE(a);
        EXPECT_TRUE(says(a.err(), rce::scc_mismatch)) << a.err().message;
    }
    auto a = c->authenticate(c->admin(), scc::new_tls_psk);
    ASSERT_FALSE(a);
    EXPECT_TRUE(says(a.err(), rce::scc_mismatch)) << a.err().message;
    EXPECT_TRUE(tgt.log_shows("NEWTLSPSK) on a TLS queue"));
}

TEST_F(concat_test, a_wrong_key_generates_nothing) {
    auto o = opts();
    o.auth.key = secret(9, 1, 32);
    auto c = host::controller::create(o);
    ASSERT_FALSE(c);
    EXPECT_TRUE(says(c.err(), rce::failed)) << c.err().message;
    // A wrong controller key: the host refuses the controller.
    o = opts();
    o.auth.ctrl_key = secret(9, 2, 48);
    c = host::controller::create(o);
    ASSERT_FALSE(c);
    EXPECT_NE(c.err().message.find("controller"), std::string::npos) << c.err().message;
    EXPECT_FALSE(tgt.log_has("generated a TLS PSK"));
}

TEST_F(concat_test, a_generated_psk_is_its_hosts_alone) {
    auto c1 = connect(opts(host1));
    ASSERT_TRUE(c1);
    const auto creds = c1->tls()->creds;
    // host2 presenting host1's identity and PSK: the channel opens (it is
    // host1's), the Connect as host2 does not.
    auto o2 = opts(host2);
    o2.concat = false;
    auto c2 = std::make_unique<host::controller>(o2);
    c2->set_tls_credentials(creds);
    auto r = c2->connect_admin();
    ASSERT_FALSE(r);
    EXPECT_EQ(spec::status_sc(static_cast<spec::status>(r.err().code)),
              spec::sc_cmd::connect_invalid_host)
        << r.err().message;
    // host2 naming itself with host1's digest and PSK: no such PSK.
    auto id = keyring::parse_psk_identity(creds.identity);
    ASSERT_TRUE(id);
    id->hostnqn = host2;
    auto forged = creds;
    forged.identity = keyring::psk_identity_text(*id);
    auto c3 = std::make_unique<host::controller>(o2);
    c3->set_tls_credentials(forged);
    EXPECT_FALSE(c3->connect_admin());
    EXPECT_TRUE(tgt.log_shows("no generated PSK of host " + std::string(host2)));
    // host1's own still works for a second controller.
    auto o1 = opts(host1, false);
    auto c4 = std::make_unique<host::controller>(o1);
    c4->set_tls_credentials(creds);
    EXPECT_TRUE(c4->connect_admin()) << tgt.log_tail();
}

TEST_F(concat_test, replace_tls_psk_on_the_admin_queue) {
    auto o = opts();
    o.num_io_queues = 1;
    auto c = connect(o);
    ASSERT_TRUE(c);
    const auto old_creds = c->tls()->creds;
    auto a = c->replace_tls_psk();
    ASSERT_TRUE(a) << a.err().message << tgt.log_tail();
    EXPECT_EQ(a->sc_c, scc::replace_tls_psk);
    const auto new_creds = c->tls()->creds;
    EXPECT_NE(new_creds.identity, old_creds.identity);
    EXPECT_TRUE(tgt.log_shows("replaced the TLS PSK"));
    // Open queues keep going; new ones use the new PSK.
    verify_io(*c, 21, 0);
    ASSERT_TRUE(c->add_io_queues(1));
    verify_io(*c, 22, c->io_queue_count() - 1);
    // The replaced PSK opens nothing any more.
    auto stale = std::make_unique<host::controller>(opts(host1, false));
    stale->set_tls_credentials(old_creds);
    EXPECT_FALSE(stale->connect_admin());
    // A second replacement works too.
    EXPECT_TRUE(c->replace_tls_psk());
}

TEST_F(concat_test, rotating_or_removing_the_host_drops_its_generated_psks) {
    auto c = connect(opts());
    ASSERT_TRUE(c);
    const auto creds = c->tls()->creds;
    auto r = tgt.rpc("nvmf_subsystem_set_keys",
                     {{"nqn", default_nqn}, {"host", host1}, {"dhchap_key", "hkey1b"}});
    ASSERT_TRUE(ok(r)) << r.dump();
    auto stale = std::make_unique<host::controller>(opts(host1, false));
    stale->set_tls_credentials(creds);
    EXPECT_FALSE(stale->connect_admin());
    // The connected controller is not dropped (rotation is live).
    verify_io(*c, 31);
    // The new key concatenates.
    auto o = opts();
    o.auth.key = secret(4, 1, 32);
    auto c2 = connect(o);
    ASSERT_TRUE(c2);
    const auto creds2 = c2->tls()->creds;
    r = tgt.rpc("nvmf_subsystem_remove_host", {{"nqn", default_nqn}, {"host", host1}});
    ASSERT_TRUE(ok(r)) << r.dump();
    stale = std::make_unique<host::controller>(opts(host1, false));
    stale->set_tls_credentials(creds2);
    EXPECT_FALSE(stale->connect_admin());
}

TEST_F(concat_test, configured_psks_work_on_a_secure_concat_listener) {
    auto o = tgt.ctrlr_opts();
    o.hostnqn = host3;
    o.psk = psk3;
    o.timeout_ms = 5000;
    auto c = connect(o);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->tls()->creds.identity.rfind("NVMe0R01 ", 0), 0u);
    verify_io(*c, 41);
}

TEST_F(concat_test, rpc_listener_and_save_config) {
    auto r = tgt.rpc("nvmf_subsystem_get_listeners", {{"nqn", default_nqn}});
    ASSERT_EQ(r["result"].size(), 1u) << r.dump();
    EXPECT_EQ(r["result"][0]["secure_channel"], true);
    EXPECT_EQ(r["result"][0]["secure_concat"], true);
    // An address is one kind for every subsystem on it.
    r = tgt.rpc("nvmf_subsystem_add_listener", {{"nqn", cnode2},
                                                {"secure_channel", true},
                                                {"listen_address", listen_address(tgt.port())}});
    ASSERT_TRUE(r.contains("error")) << r.dump();
    EXPECT_NE(r["error"]["message"].get<std::string>().find("secure_concat"), std::string::npos);
    // allow_any_host excludes it, as it does secure_channel (SPDK's rule).
    r = tgt.rpc("nvmf_create_subsystem",
                {{"nqn", "nqn.2016-06.io.spdk:any"}, {"allow_any_host", true}});
    ASSERT_TRUE(ok(r)) << r.dump();
    r = tgt.rpc("nvmf_subsystem_add_listener", {{"nqn", "nqn.2016-06.io.spdk:any"},
                                                {"secure_concat", true},
                                                {"listen_address", listen_address(tgt.port())}});
    ASSERT_TRUE(r.contains("error")) << r.dump();
    r = tgt.rpc("nvmf_delete_subsystem", {{"nqn", "nqn.2016-06.io.spdk:any"}});
    ASSERT_TRUE(ok(r)) << r.dump();
    // save_config says secure_concat and loads back.
    const auto cfg = tgt.rpc("save_config")["result"];
    const std::string text = cfg.dump();
    EXPECT_NE(text.find("\"secure_concat\":true"), std::string::npos);
    EXPECT_TRUE(tgt.stop());
    ASSERT_TRUE(tgt.start_json(cfg, tgt.port()));
    auto c = connect(opts());
    ASSERT_TRUE(c);
    verify_io(*c, 51);
    EXPECT_EQ(tgt.rpc("save_config")["result"], cfg);
}

TEST_F(concat_test, tools_take_concat) {
    for (const char* t : {"/nvmf-identify", "/nvmf-perf"}) {
        if (::access((std::string(NVMF_BUILD_DIR) + t).c_str(), X_OK) != 0) {
            GTEST_SKIP() << NVMF_BUILD_DIR << t << " not built";
        }
    }
    const std::string key = keys_.file("hkey1");
    const std::string trid = "trtype:tcp traddr:127.0.0.1 trsvcid:" + tgt.port() +
                             " subnqn:" + default_nqn + " hostnqn:" + host1;
    int rc = -1;
    auto out = run_command(std::string(NVMF_BUILD_DIR) + "/nvmf-identify -r '" + trid +
                               "' --dhchap-key " + key + " --concat 2>&1",
                           &rc);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("identity 'NVMe1G0"), std::string::npos) << out;
    out = run_command(std::string(NVMF_BUILD_DIR) + "/nvmf-perf -r '" + trid + "' --dhchap-key " +
                          key + " --concat -q 8 -o 4096 -w randrw -M 50 -t 1 --verify 2>&1",
                      &rc);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("NVMe1G0"), std::string::npos) << out;
    // Without a key, refused before connecting.
    out = run_command(
        std::string(NVMF_BUILD_DIR) + "/nvmf-perf -r '" + trid + "' --concat -t 1 2>&1", &rc);
    EXPECT_NE(rc, 0) << out;
}

}  // namespace
}  // namespace nvmf::test
