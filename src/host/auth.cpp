// DH-HMAC-CHAP from the host: AUTH_Send / AUTH_Receive around host_session.
#include "host/auth.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>

#include "auth/generated_psk.hpp"
#include "auth/host_session.hpp"
#include "auth/messages.hpp"
#include "keyring/keyring.hpp"
#include "nvme/spec/auth.hpp"
#include "nvme/spec/fabrics.hpp"

namespace nvmf::host {

namespace {

// AUTH_Receive allocation: every message a controller sends fits (a
// challenge in ffdhe8192 with SHA-512 is 16 + 64 + 1024 bytes), as SPDK's
// host allocates.
constexpr uint32_t recv_len = 4096;

std::string status_text(const completion& c) {
    char b[64];
    std::snprintf(b, sizeof(b), "SCT 0x%x SC 0x%02x%s", static_cast<unsigned>(c.sct()), c.sc(),
                  c.dnr() ? " DNR" : "");
    return b;
}

result<void> send_msg(queue& q, const std::vector<uint8_t>& msg, const char* what) {
    auto c = q.execute(auth_send_cmd(static_cast<uint32_t>(msg.size())), msg);
    if (!c) return c.err();
    if (!c->ok()) {
        return make_error(-EACCES,
                          std::string("AUTH_Send (") + what + ") failed: " + status_text(*c));
    }
    return {};
}

result<std::vector<uint8_t>> recv_msg(queue& q, const char* what) {
    std::vector<uint8_t> buf(recv_len);
    auto c = q.execute(auth_recv_cmd(recv_len), {}, buf);
    if (!c) return c.err();
    if (!c->ok()) {
        return make_error(-EACCES,
                          std::string("AUTH_Receive (") + what + ") failed: " + status_text(*c));
    }
    buf.resize(std::min<size_t>(buf.size(), c->data_len ? c->data_len : buf.size()));
    return buf;
}

error refused(const auth::host_step& s) {
    return make_error(
        -EACCES, "DH-HMAC-CHAP failed (" + std::string(auth::rce_name(s.reason)) + "): " + s.why);
}

result<std::vector<uint8_t>> parse_list(const std::string& s, bool digests) {
    std::vector<uint8_t> out;
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, ',')) {
        auto id = digests ? auth::hash_from_name(item) : auth::dhgroup_from_name(item);
        if (!id) {
            return make_error(
                -EINVAL,
                std::string(digests ? "unknown digest '" : "unknown DH group '") + item + "'");
        }
        out.push_back(*id);
    }
    if (out.empty()) return make_error(-EINVAL, "empty list");
    return out;
}

}  // namespace

spec::sqe auth_send_cmd(uint32_t tl) {
    spec::auth_send_cmd c{};
    c.opc = spec::admin_opc::fabrics;
    c.fctype = spec::fctype::auth_send;
    c.spsp0 = spec::auth_spsp0;
    c.spsp1 = spec::auth_spsp1;
    c.secp = spec::auth_secp_nvme;
    c.tl = tl;
    spec::sqe s;
    std::memcpy(&s, &c, sizeof(s));
    return s;
}

spec::sqe auth_recv_cmd(uint32_t al) {
    spec::auth_recv_cmd c{};
    c.opc = spec::admin_opc::fabrics;
    c.fctype = spec::fctype::auth_recv;
    c.spsp0 = spec::auth_spsp0;
    c.spsp1 = spec::auth_spsp1;
    c.secp = spec::auth_secp_nvme;
    c.al = al;
    spec::sqe s;
    std::memcpy(&s, &c, sizeof(s));
    return s;
}

result<auth_outcome> authenticate(queue& q, const auth_options& o, const std::string& hostnqn,
                                  const std::string& subnqn, uint16_t t_id, uint8_t sc_c) {
    if (!o.key) return make_error(-ENOKEY, "DH-HMAC-CHAP required but no host key given");
    if (sc_c != spec::auth_scc::none) {
        const bool hash_ok = std::any_of(o.digests.begin(), o.digests.end(),
                                         [](uint8_t d) { return auth::concat_hash_usable(d); });
        const bool group_ok = std::any_of(o.dhgroups.begin(), o.dhgroups.end(),
                                          [](uint8_t g) { return g != auth::dhgroup_id::null; });
        if (!hash_ok || !group_ok) {
            return make_error(-EINVAL,
                              "secure channel concatenation needs sha256 or sha384 among the "
                              "digests and a DH group other than null");
        }
    }
    auth::host_params p;
    p.hostnqn = hostnqn;
    p.subnqn = subnqn;
    p.key = o.key.get();
    p.ctrl_key = o.ctrl_key.get();
    p.digests = o.digests;
    p.dhgroups = o.dhgroups;
    p.t_id = t_id;
    p.sc_c = sc_c;
    auth::host_session s(p);

    if (auto r = send_msg(q, s.negotiate(), "AUTH_Negotiate"); !r) return r.err();
    auto challenge = recv_msg(q, "challenge");
    if (!challenge) return challenge.err();
    auto step = s.on_challenge(*challenge);
    if (!step.send.empty()) {
        if (auto r = send_msg(q, step.send, step.failed ? "AUTH_Failure2" : "Reply"); !r) {
            return r.err();
        }
    }
    if (step.failed) return refused(step);
    auto success1 = recv_msg(q, "Success1");
    if (!success1) return success1.err();
    step = s.on_success1(*success1);
    if (!step.send.empty()) {
        if (auto r = send_msg(q, step.send, step.failed ? "AUTH_Failure2" : "Success2"); !r) {
            return r.err();
        }
    }
    if (step.failed) return refused(step);
    auth_outcome out{s.hash(), s.dhgroup(), o.ctrl_key != nullptr, sc_c, std::nullopt};
    if (sc_c != spec::auth_scc::none) {
        auto psk = s.take_generated_psk();
        auto creds = auth::generated_credentials(s.hash(), psk.span(), hostnqn, subnqn);
        if (!creds) return make_error(-EIO, "the generated PSK: " + creds.err().message);
        out.generated = std::move(*creds);
    }
    return out;
}

result<std::shared_ptr<const keyring::dhchap_secret>> load_dhchap_secret(const std::string& arg) {
    keyring::secure_bytes text;
    if (arg.rfind(keyring::dhchap_prefix, 0) == 0) {
        text = keyring::secure_bytes(arg.data(), arg.size());
    } else {
        auto f = keyring::read_key_file(arg);
        if (!f) return f.err();
        text = std::move(*f);
    }
    auto s = keyring::parse_dhchap_secret(text.span());
    if (!s) return s.err();
    return std::make_shared<const keyring::dhchap_secret>(std::move(*s));
}

result<void> auth_from_args(auth_options& o, const std::string& key, const std::string& ctrl_key,
                            const std::string& digests, const std::string& dhgroups) {
    if (!ctrl_key.empty() && key.empty()) {
        return make_error(-EINVAL, "--dhchap-ctrlr-key needs --dhchap-key");
    }
    if (!key.empty()) {
        auto k = load_dhchap_secret(key);
        if (!k) return make_error(k.err().code, "--dhchap-key: " + k.err().message);
        o.key = *k;
    }
    if (!ctrl_key.empty()) {
        auto k = load_dhchap_secret(ctrl_key);
        if (!k) return make_error(k.err().code, "--dhchap-ctrlr-key: " + k.err().message);
        o.ctrl_key = *k;
    }
    if (!digests.empty()) {
        auto d = parse_digest_list(digests);
        if (!d) return make_error(d.err().code, "--dhchap-digests: " + d.err().message);
        o.digests = *d;
    }
    if (!dhgroups.empty()) {
        auto g = parse_dhgroup_list(dhgroups);
        if (!g) return make_error(g.err().code, "--dhchap-dhgroups: " + g.err().message);
        o.dhgroups = *g;
    }
    return {};
}

std::string describe(const auth_outcome& a) {
    const char* h = auth::hash_name(a.hash);
    const char* g = auth::dhgroup_name(a.dhgroup);
    return std::string(h ? h : "?") + " " + (g ? g : "?") +
           (a.bidirectional ? ", controller authenticated" : "") +
           (a.generated ? ", TLS PSK generated" : "");
}

result<std::vector<uint8_t>> parse_digest_list(const std::string& s) { return parse_list(s, true); }
result<std::vector<uint8_t>> parse_dhgroup_list(const std::string& s) {
    return parse_list(s, false);
}

}  // namespace nvmf::host
