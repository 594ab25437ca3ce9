// DH-HMAC-CHAP end to end: the daemon with keys in its keyring, our host
// library authenticating admin and I/O queues. Every digest with the null
// group and ffdhe2048, one and two way; every refusal (wrong key, no key, a
// queue that skips authentication, replayed and truncated messages, a
// stalled transaction); re-authentication and live key rotation; the RPCs.
#include <sys/stat.h>

#include <fstream>

#include "auth/host_session.hpp"
#include "auth/messages.hpp"
#include "daemon_fixture.hpp"
#include "host/auth.hpp"
#include "keyring/dhchap_secret.hpp"
#include "nvme/spec/auth.hpp"

namespace nvmf::test {
namespace {

namespace rce = spec::auth_rce;
using nlohmann::json;

constexpr const char* hostnqn =
    "nqn.2014-08.org.nvmexpress:uuid:6a1e6b36-3c3d-4e1a-9c0e-2b4b0e0c6d11";

bool ok(const json& r) { return r.contains("result") && !r.contains("error"); }

class auth_test : public target_test {
protected:
    // A DHHC-1 secret from a seed, its text and the key file holding it.
    struct key {
        std::string text;
        std::string path;
        std::shared_ptr<const keyring::dhchap_secret> secret;
    };

    key make_key(const std::string& name, uint8_t seed, uint8_t hash = 1, size_t len = 32) {
        std::vector<uint8_t> raw(len);
        for (size_t i = 0; i < len; ++i) raw[i] = static_cast<uint8_t>(seed * 31 + i * 7);
        auto t = keyring::format_dhchap_secret(hash, raw);
        key k;
        k.text.assign(reinterpret_cast<const char*>(t->data()), t->size());
        k.path = tgt.dir() + "/" + name + ".key";
        {
            std::ofstream f(k.path);
            f << k.text << "\n";
        }
        ::chmod(k.path.c_str(), 0600);
        k.secret = *host::load_dhchap_secret(k.text);
        return k;
    }

    key add_key(const std::string& name, uint8_t seed, uint8_t hash = 1, size_t len = 32) {
        key k = make_key(name, seed, hash, len);
        auto r = tgt.rpc("keyring_file_add_key", {{"name", name}, {"path", k.path}});
        EXPECT_TRUE(ok(r)) << r.dump();
        return k;
    }

    void add_host(const char* k, const char* ck = nullptr) {
        json p = {{"nqn", default_nqn}, {"host", hostnqn}, {"dhchap_key", k}};
        if (ck) p["dhchap_ctrlr_key"] = ck;
        auto r = tgt.rpc("nvmf_subsystem_add_host", p);
        ASSERT_TRUE(ok(r)) << r.dump();
    }

    void allow(const std::vector<std::string>& digests, const std::vector<std::string>& groups) {
        auto r =
            tgt.rpc("nvmf_set_config", {{"dhchap_digests", digests}, {"dhchap_dhgroups", groups}});
        ASSERT_TRUE(ok(r)) << r.dump();
    }

    host::controller_options opts(const key* k, const key* ck = nullptr) {
        auto o = tgt.ctrlr_opts();
        o.hostnqn = hostnqn;
        if (k) o.auth.key = k->secret;
        if (ck) o.auth.ctrl_key = ck->secret;
        return o;
    }

    // Write a pattern through every I/O queue and read it back.
    void verify_io(host::controller& c, uint32_t seed) {
        for (size_t q = 0; q < c.io_queue_count(); ++q) {
            auto data = random_bytes(4096, seed + static_cast<uint32_t>(q));
            auto w = c.write(1, q * 8, 8, data, q);
            ASSERT_TRUE(w && w->ok()) << (w ? st(*w) : w.err().message);
            std::vector<uint8_t> back(4096);
            auto r = c.read(1, q * 8, 8, back, q);
            ASSERT_TRUE(r && r->ok()) << (r ? st(*r) : r.err().message);
            EXPECT_EQ(back, data);
        }
    }

    // A queue connected to an admin queue that authenticated, by hand.
    std::unique_ptr<host::queue> raw_admin_connect(const host::controller_options& o,
                                                   uint32_t kato = 0, uint32_t* cdw0 = nullptr) {
        auto q = std::make_unique<host::queue>(tgt.queue_opts());
        if (auto r = q->open("127.0.0.1", tgt.port()); !r) {
            ADD_FAILURE() << r.err().message;
            return nullptr;
        }
        auto c = host::fabrics_connect(*q, 0, 31, kato, o.hostid, spec::cntlid_dynamic, hostnqn,
                                       default_nqn);
        if (!c || !c->ok()) {
            ADD_FAILURE() << "connect failed";
            return nullptr;
        }
        if (cdw0) *cdw0 = c->cqe.cdw0;
        return q;
    }

    // AUTH_Send of raw bytes / AUTH_Receive of the next message.
    static host::completion send(host::queue& q, const std::vector<uint8_t>& m) {
        auto c = q.execute(host::auth_send_cmd(static_cast<uint32_t>(m.size())), m);
        EXPECT_TRUE(c) << c.err().message;
        return c ? *c : host::completion{};
    }
    static std::vector<uint8_t> recv(host::queue& q) {
        std::vector<uint8_t> b(4096);
        auto c = q.execute(host::auth_recv_cmd(4096), {}, b);
        EXPECT_TRUE(c && c->ok()) << (c ? st(*c) : c.err().message);
        return b;
    }
    static bool auth_required(const host::completion& c) {
        return c.sct() == spec::sct::command_specific && c.sc() == spec::sc_cmd::auth_required;
    }
};

TEST_F(auth_test, every_digest_with_null_and_ffdhe2048_one_and_two_way) {
    auto k = add_key("key0", 1, 1, 32);
    auto ck = add_key("ckey0", 2, 3, 64);
    add_host("key0", "ckey0");
    const char* digests[] = {"sha256", "sha384", "sha512"};
    const char* groups[] = {"null", "ffdhe2048"};
    uint32_t seed = 1;
    for (const char* d : digests) {
        for (const char* g : groups) {
            allow({d}, {g});
            for (bool two_way : {false, true}) {
                SCOPED_TRACE(std::string(d) + " " + g + (two_way ? " two-way" : " one-way"));
                auto o = opts(&k, two_way ? &ck : nullptr);
                o.num_io_queues = 2;
                auto c = connect(o);
                ASSERT_TRUE(c);
                ASSERT_TRUE(c->admin_auth());
                EXPECT_STREQ(auth::hash_name(c->admin_auth()->hash), d);
                EXPECT_STREQ(auth::dhgroup_name(c->admin_auth()->dhgroup), g);
                verify_io(*c, seed++);
                // The target shows each queue's authentication as SPDK does.
                auto qp = tgt.rpc("nvmf_subsystem_get_qpairs", {{"nqn", default_nqn}});
                ASSERT_TRUE(ok(qp));
                size_t authed = 0;
                for (const auto& e : qp["result"]) {
                    if (e["cntlid"] != c->cntlid()) continue;
                    ASSERT_TRUE(e.contains("auth")) << e.dump();
                    EXPECT_EQ(e["auth"]["state"], "completed");
                    EXPECT_EQ(e["auth"]["digest"], d);
                    EXPECT_EQ(e["auth"]["dhgroup"], g);
                    ++authed;
                }
                EXPECT_EQ(authed, 3u);  // admin + 2 I/O queues
                c->disconnect();
            }
        }
    }
}

TEST_F(auth_test, wrong_keys_are_refused) {
    auto k = add_key("key0", 1);
    auto ck = add_key("ckey0", 2);
    add_host("key0", "ckey0");
    const key wrong = make_key("wrong", 9);
    allow({"sha256"}, {"null", "ffdhe2048"});
    // Wrong host key: AUTH_Failure1 "authentication failed", no controller.
    auto c = host::controller::create(opts(&wrong));
    ASSERT_FALSE(c);
    EXPECT_EQ(c.err().code, -EACCES);
    EXPECT_NE(c.err().message.find("authentication failed"), std::string::npos) << c.err().message;
    // Wrong controller key: the host refuses the controller (AUTH_Failure2).
    auto c2 = host::controller::create(opts(&k, &wrong));
    ASSERT_FALSE(c2);
    EXPECT_NE(c2.err().message.find("wrong controller key"), std::string::npos) << c2.err().message;
    // No key at all: the host cannot answer ATR.
    auto c3 = host::controller::create(opts(nullptr));
    ASSERT_FALSE(c3);
    EXPECT_NE(c3.err().message.find("ATR"), std::string::npos) << c3.err().message;
    // The right keys still work, and the refused ones left nothing behind.
    auto good = connect(opts(&k, &ck));
    ASSERT_TRUE(good);
    verify_io(*good, 5);
    EXPECT_TRUE(tgt.log_shows("DH-HMAC-CHAP failed (authentication failed)"));
    // Key material never reaches the log.
    EXPECT_FALSE(tgt.log_has(k.text.substr(10, 20)));
    EXPECT_FALSE(tgt.log_has(wrong.text.substr(10, 20)));
}

TEST_F(auth_test, a_queue_that_skips_authentication_gets_nothing) {
    auto k = add_key("key0", 1);
    add_host("key0");
    // Admin queue: ATR is set; Property Get, Identify, Keep Alive are refused.
    uint32_t cdw0 = 0;
    auto q = raw_admin_connect(opts(&k), 0, &cdw0);
    ASSERT_TRUE(q);
    EXPECT_NE(cdw0 & spec::authreq::atr, 0u);
    EXPECT_EQ(cdw0 & spec::authreq::ascr, 0u);
    auto pg = q->execute(host::cmd::property_get(spec::prop::cap, true));
    ASSERT_TRUE(pg);
    EXPECT_TRUE(auth_required(*pg)) << st(*pg);
    EXPECT_FALSE(pg->dnr());  // the host may authenticate and retry
    std::vector<uint8_t> id(4096);
    auto ident = q->execute(host::cmd::identify(spec::cns::ctrlr), {}, id);
    ASSERT_TRUE(ident);
    EXPECT_TRUE(auth_required(*ident)) << st(*ident);
    auto ka = q->execute(host::cmd::keep_alive());
    ASSERT_TRUE(ka);
    EXPECT_TRUE(auth_required(*ka));

    // An authenticated controller, then an I/O queue that skips it: its
    // reads and writes are refused while the authenticated queue serves.
    auto o = opts(&k);
    auto c = connect(o);
    ASSERT_TRUE(c);
    auto io = c->open_queue(32, 0);
    ASSERT_TRUE(io);
    auto con = host::fabrics_connect(**io, 2, 31, 0, c->options().hostid, c->cntlid(), hostnqn,
                                     default_nqn);
    ASSERT_TRUE(con && con->ok());
    EXPECT_NE(con->cqe.cdw0 & spec::authreq::atr, 0u);
    std::vector<uint8_t> buf(512);
    auto rd = (*io)->execute(host::cmd::read(1, 0, 1), {}, buf);
    ASSERT_TRUE(rd);
    EXPECT_TRUE(auth_required(*rd)) << st(*rd);
    auto data = random_bytes(512, 3);
    auto wr = (*io)->execute(host::cmd::write(1, 0, 1), data);
    ASSERT_TRUE(wr);
    EXPECT_TRUE(auth_required(*wr)) << st(*wr);
    verify_io(*c, 7);
}

TEST_F(auth_test, replayed_and_truncated_messages_are_refused) {
    auto k = add_key("key0", 1);
    add_host("key0");
    allow({"sha256"}, {"null"});
    const auto o = opts(&k);
    const uint8_t sha256[] = {auth::hash_id::sha256}, null_group[] = {auth::dhgroup_id::null};

    // An honest transaction, recorded.
    auto q1 = raw_admin_connect(o);
    ASSERT_TRUE(q1);
    auth::host_params hp{hostnqn, default_nqn, k.secret.get(), nullptr};
    hp.digests = {auth::hash_id::sha256};
    hp.dhgroups = {auth::dhgroup_id::null};
    hp.t_id = 1;
    auth::host_session h(hp);
    const auto negotiate = h.negotiate();
    ASSERT_TRUE(send(*q1, negotiate).ok());
    auto step = h.on_challenge(recv(*q1));
    ASSERT_FALSE(step.failed) << step.why;
    const auto reply = step.send;
    ASSERT_TRUE(send(*q1, reply).ok());
    step = h.on_success1(recv(*q1));
    ASSERT_TRUE(step.done) << step.why;
    auto pg = q1->execute(host::cmd::property_get(spec::prop::cap, true));
    ASSERT_TRUE(pg && pg->ok()) << (pg ? st(*pg) : "");

    // The recorded reply on a new queue: a new challenge, so it does not answer.
    auto q2 = raw_admin_connect(o);
    ASSERT_TRUE(q2);
    ASSERT_TRUE(send(*q2, auth::build_negotiate(1, 0, sha256, null_group)).ok());
    ASSERT_TRUE(auth::parse_challenge(recv(*q2)));
    ASSERT_TRUE(send(*q2, reply).ok());  // accepted as a command...
    auto f = auth::parse_failure1(recv(*q2));
    ASSERT_TRUE(f);  // ...answered with AUTH_Failure1
    EXPECT_EQ(f->rce, rce::failed);
    EXPECT_TRUE(q2->wait_closed(3000)) << "the queue stays open after a failure";

    // A reply cut short.
    auto q3 = raw_admin_connect(o);
    ASSERT_TRUE(q3);
    auth::host_session h3(hp);
    ASSERT_TRUE(send(*q3, h3.negotiate()).ok());
    auto s3 = h3.on_challenge(recv(*q3));
    ASSERT_FALSE(s3.failed);
    s3.send.resize(s3.send.size() - 5);
    ASSERT_TRUE(send(*q3, s3.send).ok());
    f = auth::parse_failure1(recv(*q3));
    ASSERT_TRUE(f);
    EXPECT_EQ(f->rce, rce::incorrect_payload);
    EXPECT_TRUE(q3->wait_closed(3000));

    // A replayed negotiate in the middle of a transaction.
    auto q4 = raw_admin_connect(o);
    ASSERT_TRUE(q4);
    ASSERT_TRUE(send(*q4, negotiate).ok());
    ASSERT_TRUE(auth::parse_challenge(recv(*q4)));
    ASSERT_TRUE(send(*q4, negotiate).ok());
    f = auth::parse_failure1(recv(*q4));
    ASSERT_TRUE(f);
    EXPECT_EQ(f->rce, rce::incorrect_protocol_message);
    EXPECT_TRUE(q4->wait_closed(3000));

    // Malformed commands: wrong SECP, TL not the data length.
    auto q5 = raw_admin_connect(o);
    ASSERT_TRUE(q5);
    auto bad = host::auth_send_cmd(static_cast<uint32_t>(negotiate.size()));
    bad.cdw10 ^= 0xff000000u;  // SECP
    auto c = q5->execute(bad, negotiate);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->sc(), spec::sc::invalid_field);
    EXPECT_TRUE(c->dnr());
    c = q5->execute(host::auth_send_cmd(static_cast<uint32_t>(negotiate.size() + 4)), negotiate);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->sc(), spec::sc::invalid_field);
    // The queue still authenticates afterwards.
    auth::host_session h5(hp);
    ASSERT_TRUE(send(*q5, h5.negotiate()).ok());
    auto s5 = h5.on_challenge(recv(*q5));
    ASSERT_TRUE(send(*q5, s5.send).ok());
    EXPECT_TRUE(h5.on_success1(recv(*q5)).done);
}

TEST_F(auth_test, a_stalled_transaction_times_out) {
    auto k = add_key("key0", 1);
    add_host("key0");
    // KATO 1 s on the admin Connect bounds the transaction.
    auto q = raw_admin_connect(opts(&k), 1000);
    ASSERT_TRUE(q);
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(q->wait_closed(5000));
    EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(800));
    EXPECT_TRUE(tgt.log_shows("timed out"));
}

TEST_F(auth_test, reauthentication_on_request_keeps_io_going) {
    auto k = add_key("key0", 1);
    auto ck = add_key("ckey0", 2);
    add_host("key0", "ckey0");
    // ffdhe8192 (what both sides would pick) costs a second per queue under
    // ASan; ffdhe3072 exercises the same code.
    allow({"sha256", "sha384", "sha512"}, {"null", "ffdhe2048", "ffdhe3072"});
    auto o = opts(&k, &ck);
    o.num_io_queues = 2;
    auto c = connect(o);
    ASSERT_TRUE(c);
    ASSERT_TRUE(c->admin_auth());
    EXPECT_EQ(c->admin_auth()->hash, auth::hash_id::sha512);
    EXPECT_EQ(c->admin_auth()->dhgroup, auth::dhgroup_id::ffdhe3072);
    for (int i = 0; i < 3; ++i) {
        auto a = c->authenticate(c->admin());
        ASSERT_TRUE(a) << a.err().message;
        for (size_t q = 0; q < c->io_queue_count(); ++q) {
            auto r = c->authenticate(c->io(q));
            ASSERT_TRUE(r) << r.err().message;
        }
        verify_io(*c, 20 + i);
    }
    EXPECT_TRUE(tgt.log_shows("re-authenticated"));
}

TEST_F(auth_test, live_rotation_with_nvmf_subsystem_set_keys) {
    auto k1 = add_key("key1", 1);
    auto k2 = add_key("key2", 2);
    auto ck2 = add_key("ckey2", 3);
    add_host("key1");
    allow({"sha384"}, {"ffdhe2048"});
    auto o = opts(&k1);
    o.num_io_queues = 2;
    auto c = connect(o);
    ASSERT_TRUE(c);
    verify_io(*c, 30);

    auto r = tgt.rpc("nvmf_subsystem_set_keys", {{"nqn", default_nqn},
                                                 {"host", hostnqn},
                                                 {"dhchap_key", "key2"},
                                                 {"dhchap_ctrlr_key", "ckey2"}});
    ASSERT_TRUE(ok(r)) << r.dump();
    // Connected queues are not dropped.
    verify_io(*c, 31);
    auto subs = tgt.rpc("nvmf_get_subsystems", {{"nqn", default_nqn}});
    bool listed = false;
    for (const auto& h : subs["result"][0]["hosts"]) {
        if (h["nqn"] != hostnqn) continue;
        listed = true;
        EXPECT_EQ(h["dhchap_key"], "key2");
        EXPECT_EQ(h["dhchap_ctrlr_key"], "ckey2");
    }
    EXPECT_TRUE(listed) << subs.dump();

    // A new controller needs the new keys.
    EXPECT_FALSE(host::controller::create(opts(&k1)));
    auto c2 = connect(opts(&k2, &ck2));
    ASSERT_TRUE(c2);
    verify_io(*c2, 32);

    // The old controller re-authenticates with the new keys, queue by queue.
    host::auth_options a;
    a.key = k2.secret;
    a.ctrl_key = ck2.secret;
    c->set_auth(a);
    ASSERT_TRUE(c->authenticate(c->admin()));
    ASSERT_TRUE(c->authenticate(c->io(0)));
    verify_io(*c, 33);
    // Re-authenticating with the old key fails and closes that queue only.
    host::auth_options old;
    old.key = k1.secret;
    c->set_auth(old);
    auto bad = c->authenticate(c->io(1));
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.err().code, -EACCES);
    EXPECT_TRUE(c->io(1).wait_closed(3000));
    auto rd = c->flush(1, 0);
    ASSERT_TRUE(rd && rd->ok());
    verify_io(*c2, 34);
}

TEST_F(auth_test, rpcs_keys_by_name_never_material) {
    auto k = add_key("key0", 1);
    auto ck = add_key("ckey0", 2);
    // Unknown key names, a controller key alone, wrong format.
    auto r = tgt.rpc("nvmf_subsystem_add_host",
                     {{"nqn", default_nqn}, {"host", hostnqn}, {"dhchap_key", "nope"}});
    ASSERT_TRUE(r.contains("error"));
    EXPECT_EQ(r["error"]["code"], -32602);
    EXPECT_NE(r["error"]["message"].get<std::string>().find("nope"), std::string::npos);
    r = tgt.rpc("nvmf_subsystem_add_host",
                {{"nqn", default_nqn}, {"host", hostnqn}, {"dhchap_ctrlr_key", "ckey0"}});
    ASSERT_TRUE(r.contains("error")) << r.dump();
    r = tgt.rpc("keyring_file_add_key", {{"name", "key0"}, {"path", k.path}});
    ASSERT_TRUE(r.contains("error"));
    EXPECT_EQ(r["error"]["code"], -EEXIST);
    ::chmod(k.path.c_str(), 0644);
    r = tgt.rpc("keyring_file_add_key", {{"name", "open"}, {"path", k.path}});
    ASSERT_TRUE(r.contains("error"));
    EXPECT_EQ(r["error"]["code"], -EPERM);
    EXPECT_NE(r["error"]["message"].get<std::string>().find("permissions"), std::string::npos);
    r = tgt.rpc("keyring_file_add_key", {{"name", "rel"}, {"path", "relative.key"}});
    EXPECT_EQ(r["error"]["code"], -EPERM);

    add_host("key0", "ckey0");
    r = tgt.rpc("nvmf_subsystem_set_keys", {{"nqn", default_nqn},
                                            {"host", "nqn.2014-08.org.nvmexpress:uuid:nope"},
                                            {"dhchap_key", "key0"}});
    ASSERT_TRUE(r.contains("error"));
    r = tgt.rpc("nvmf_set_config", {{"dhchap_digests", {"md5"}}});
    ASSERT_TRUE(r.contains("error"));
    EXPECT_EQ(r["error"]["code"], -32602);
    r = tgt.rpc("nvmf_set_config", {{"dhchap_dhgroups", {"ffdhe1024"}}});
    ASSERT_TRUE(r.contains("error"));
    r = tgt.rpc("nvmf_set_config", {{"dhchap_digests", json::array()}});
    ASSERT_TRUE(r.contains("error"));

    auto keys = tgt.rpc("keyring_get_keys");
    ASSERT_TRUE(ok(keys));
    ASSERT_EQ(keys["result"].size(), 2u);
    EXPECT_EQ(keys["result"][0]["name"], "ckey0");
    EXPECT_EQ(keys["result"][1]["name"], "key0");
    EXPECT_EQ(keys["result"][1]["path"], k.path);
    EXPECT_EQ(keys["result"][1]["removed"], false);

    // save_config: the keyring section and the host entry carry names and
    // paths; no reply carries a secret.
    auto cfg = tgt.rpc("save_config");
    ASSERT_TRUE(ok(cfg));
    const std::string dump = cfg.dump() + keys.dump() + tgt.rpc("nvmf_get_subsystems").dump();
    EXPECT_EQ(dump.find("DHHC-1:"), std::string::npos);
    EXPECT_EQ(dump.find(k.text.substr(10, 16)), std::string::npos);
    EXPECT_EQ(cfg["result"]["subsystems"][0]["subsystem"], "keyring");
    EXPECT_EQ(cfg["result"]["subsystems"][0]["config"].size(), 2u);
    bool host_entry = false, set_config = false;
    json nvmf_section;
    for (const auto& sec : cfg["result"]["subsystems"]) {
        if (sec["subsystem"] == "nvmf") nvmf_section = sec["config"];
    }
    ASSERT_TRUE(nvmf_section.is_array()) << cfg.dump(1);
    for (const auto& e : nvmf_section) {
        if (e["method"] == "nvmf_subsystem_add_host" && e["params"]["host"] == hostnqn) {
            host_entry = true;
            EXPECT_EQ(e["params"]["dhchap_key"], "key0");
            EXPECT_EQ(e["params"]["dhchap_ctrlr_key"], "ckey0");
        }
        if (e["method"] == "nvmf_set_config") {
            set_config = true;
            EXPECT_EQ(e["params"]["dhchap_digests"], json({"sha256", "sha384", "sha512"}));
        }
    }
    EXPECT_TRUE(host_entry && set_config) << cfg.dump(1);

    // A key removed from the keyring can no longer authenticate anyone.
    ASSERT_TRUE(ok(tgt.rpc("keyring_file_remove_key", {{"name", "key0"}})));
    auto c = host::controller::create(opts(&k, &ck));
    ASSERT_FALSE(c);
    EXPECT_TRUE(tgt.log_shows("was removed from the keyring"));
    r = tgt.rpc("keyring_file_remove_key", {{"name", "key0"}});
    EXPECT_EQ(r["error"]["code"], -ENOKEY);
}

// Keys made by nvme-cli load into the keyring and authenticate our host.
TEST_F(auth_test, nvme_cli_keys_load_and_authenticate) {
    int rc = 0;
    const std::string version = run_command("nvme version 2>&1", &rc);
    if (rc != 0) GTEST_SKIP() << "nvme-cli is not installed";
    allow({"sha256", "sha384", "sha512"}, {"null", "ffdhe2048"});
    const struct {
        const char* hmac;
        const char* len;
    } kinds[] = {{"0", "32"}, {"1", "32"}, {"2", "48"}, {"3", "64"}};
    int n = 0;
    for (const auto& kind : kinds) {
        const std::string name = "cli" + std::to_string(n++);
        std::string text = run_command(std::string("nvme gen-dhchap-key --hmac=") + kind.hmac +
                                           " --key-length=" + kind.len + " --nqn=" + hostnqn,
                                       &rc);
        ASSERT_EQ(rc, 0) << text;
        while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
        run_command("nvme check-dhchap-key --key='" + text + "' >/dev/null 2>&1", &rc);
        EXPECT_EQ(rc, 0) << "nvme-cli rejects its own key";
        const std::string path = tgt.dir() + "/" + name + ".key";
        std::ofstream(path) << text << "\n";
        ::chmod(path.c_str(), 0600);
        auto r = tgt.rpc("keyring_file_add_key", {{"name", name}, {"path", path}});
        ASSERT_TRUE(ok(r)) << r.dump();
        if (n == 1) {
            add_host(name.c_str());
        } else {
            r = tgt.rpc("nvmf_subsystem_set_keys",
                        {{"nqn", default_nqn}, {"host", hostnqn}, {"dhchap_key", name}});
            ASSERT_TRUE(ok(r)) << r.dump();
        }
        auto secret = host::load_dhchap_secret(path);
        ASSERT_TRUE(secret) << secret.err().message;
        auto o = tgt.ctrlr_opts();
        o.hostnqn = hostnqn;
        o.auth.key = *secret;
        auto c = connect(o);
        ASSERT_TRUE(c) << text.substr(0, 10);
        verify_io(*c, 40 + n);
    }
}

// The tools: keys and subsystem hosts configured with nvmf-rpc, then
// nvmf-identify and nvmf-perf with --dhchap-key/--dhchap-ctrlr-key (key files,
// as spdk_nvme_perf takes them).
TEST_F(auth_test, tools_take_dhchap_keys) {
    const std::string bin = NVMF_BUILD_DIR;
    const std::string rpc = bin + "/nvmf-rpc -s " + tgt.rpc_path() + " ";
    auto k = make_key("key0", 1);
    auto ck = make_key("ckey0", 2, 2, 48);
    const key wrong = make_key("wrong", 3);
    int rc = 0;
    std::string out = run_command(rpc + "keyring_file_add_key key0 " + k.path + " 2>&1", &rc);
    ASSERT_EQ(rc, 0) << out;
    out = run_command(rpc + "keyring_file_add_key ckey0 " + ck.path + " 2>&1", &rc);
    ASSERT_EQ(rc, 0) << out;
    out = run_command(rpc + "nvmf_subsystem_add_host " + default_nqn + " " + hostnqn +
                          " --dhchap-key key0 --dhchap-ctrlr-key ckey0 2>&1",
                      &rc);
    ASSERT_EQ(rc, 0) << out;
    out = run_command(
        rpc + "nvmf_set_config --dhchap-digests sha384 --dhchap-dhgroups ffdhe2048 2>&1", &rc);
    ASSERT_EQ(rc, 0) << out;
    out = run_command(rpc + "keyring_get_keys 2>&1", &rc);
    ASSERT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("ckey0"), std::string::npos);
    EXPECT_EQ(out.find("DHHC-1:"), std::string::npos);

    const std::string trid = "'trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:" + tgt.port() +
                             " subnqn:" + default_nqn + " hostnqn:" + hostnqn + "'";
    out = run_command(bin + "/nvmf-identify -r " + trid + " --hostnqn " + hostnqn +
                          " --dhchap-key " + k.path + " --dhchap-ctrlr-key " + ck.path + " 2>&1",
                      &rc);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("DH-HMAC-CHAP: authenticated (sha384 ffdhe2048, controller authenticated)"),
              std::string::npos)
        << out;
    out = run_command(bin + "/nvmf-perf -r " + trid + " -q 8 -o 4096 -w randrw -M 50 -t 1" +
                          " --dhchap-key " + k.path + " --dhchap-ctrlr-key " + ck.path + " 2>&1",
                      &rc);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("authenticated (sha384 ffdhe2048"), std::string::npos) << out;
    // Wrong key, no key, a key file others may read: refused, exit 1 or 2.
    out = run_command(bin + "/nvmf-perf -r " + trid + " -t 1 --dhchap-key " + wrong.path + " 2>&1",
                      &rc);
    EXPECT_EQ(rc, 1) << out;
    EXPECT_NE(out.find("authentication failed"), std::string::npos) << out;
    out = run_command(bin + "/nvmf-identify -r " + trid + " 2>&1", &rc);
    EXPECT_EQ(rc, 1) << out;
    EXPECT_NE(out.find("ATR"), std::string::npos) << out;
    ::chmod(k.path.c_str(), 0644);
    out =
        run_command(bin + "/nvmf-perf -r " + trid + " -t 1 --dhchap-key " + k.path + " 2>&1", &rc);
    EXPECT_EQ(rc, 2) << out;
    EXPECT_NE(out.find("permissions"), std::string::npos) << out;
    // The key text itself works too (nvme-cli's --dhchap-secret style).
    out =
        run_command(bin + "/nvmf-identify -r " + trid + " --dhchap-key '" + k.text + "' 2>&1", &rc);
    EXPECT_EQ(rc, 0) << out;
    // Rotation with nvmf-rpc.
    out = run_command(rpc + "nvmf_subsystem_set_keys " + std::string(default_nqn) + " " + hostnqn +
                          " --dhchap-key ckey0 2>&1",
                      &rc);
    ASSERT_EQ(rc, 0) << out;
    out =
        run_command(bin + "/nvmf-identify -r " + trid + " --dhchap-key " + ck.path + " 2>&1", &rc);
    EXPECT_EQ(rc, 0) << out;
}

}  // namespace
}  // namespace nvmf::test
