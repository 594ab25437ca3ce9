// nvmf-identify: connects to an NVMe/TCP target with our own initiator and
// prints the discovery log (like `nvme discover`) or the controller and
// namespace identify data (like `nvme id-ctrl` / `nvme id-ns`).
//
//   nvmf-identify -r 'trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:4420 subnqn:NQN'
#include <cinttypes>
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "host/ana_log.hpp"
#include "host/controller.hpp"
#include "host/discovery.hpp"
#include "host/tls_args.hpp"
#include "nvme/spec/fabrics.hpp"
#include "nvme/spec/identify.hpp"

namespace {

using namespace nvmf;

std::string hex_bytes(const uint8_t* p, size_t n) {
    std::string s;
    char b[4];
    for (size_t i = 0; i < n; ++i) {
        std::snprintf(b, sizeof(b), "%02x", p[i]);
        s += b;
    }
    return s;
}

void print_discovery(const host::discovery_log& log) {
    std::printf("\nDiscovery Log Number of Records %zu, Generation counter %" PRIu64 "\n",
                log.entries.size(), log.genctr);
    for (size_t i = 0; i < log.entries.size(); ++i) {
        const auto& e = log.entries[i];
        std::printf("=====Discovery Log Entry %zu======\n", i);
        std::printf("trtype:  %s\n", host::trtype_name(e.trtype));
        std::printf("adrfam:  %s\n", host::adrfam_name(e.adrfam));
        std::printf("subtype: %s\n", host::subtype_name(e.subtype));
        std::printf("treq:    %s\n", host::treq_string(e.treq).c_str());
        std::printf("portid:  %u\n", e.portid);
        std::printf("trsvcid: %s\n", host::field_string(e.trsvcid, sizeof(e.trsvcid)).c_str());
        std::printf("subnqn:  %s\n", host::field_string(e.subnqn, sizeof(e.subnqn)).c_str());
        std::printf("traddr:  %s\n", host::field_string(e.traddr, sizeof(e.traddr)).c_str());
        std::printf("eflags:  %s\n", e.eflags == 0 ? "none" : std::to_string(e.eflags).c_str());
        if (e.trtype == spec::trtype::tcp) {
            const char* sec = e.tsas[0] == spec::tcp_sectype::none    ? "none"
                              : e.tsas[0] == spec::tcp_sectype::tls12 ? "tls1.2"
                              : e.tsas[0] == spec::tcp_sectype::tls13 ? "tls1.3"
                                                                      : "unrecognized";
            std::printf("sectype: %s\n", sec);
        }
    }
}

void print_ctrlr(const spec::identify_ctrlr& id, uint64_t cap, uint32_t vs) {
    std::printf("NVME Identify Controller:\n");
    std::printf("vid       : %#x\n", id.vid);
    std::printf("ssvid     : %#x\n", id.ssvid);
    std::printf("sn        : %s\n", host::field_string(id.sn, sizeof(id.sn)).c_str());
    std::printf("mn        : %s\n", host::field_string(id.mn, sizeof(id.mn)).c_str());
    std::printf("fr        : %s\n", host::field_string(id.fr, sizeof(id.fr)).c_str());
    std::printf("rab       : %u\n", id.rab);
    std::printf("ieee      : %02x%02x%02x\n", id.ieee[2], id.ieee[1], id.ieee[0]);
    std::printf("cmic      : %#x\n", id.cmic);
    std::printf("mdts      : %u\n", id.mdts);
    std::printf("cntlid    : %#x\n", id.cntlid);
    std::printf("ver       : %#x (%u.%u.%u)\n", id.ver, id.ver >> 16, (id.ver >> 8) & 0xff,
                id.ver & 0xff);
    std::printf("oaes      : %#x\n", id.oaes);
    std::printf("ctratt    : %#x\n", id.ctratt);
    std::printf("cntrltype : %u\n", id.cntrltype);
    std::printf("fguid     : %s\n", hex_bytes(id.fguid, sizeof(id.fguid)).c_str());
    std::printf("oacs      : %#x\n", id.oacs);
    std::printf("acl       : %u\n", id.acl);
    std::printf("aerl      : %u\n", id.aerl);
    std::printf("frmw      : %#x\n", id.frmw);
    std::printf("lpa       : %#x\n", id.lpa);
    std::printf("elpe      : %u\n", id.elpe);
    std::printf("npss      : %u\n", id.npss);
    std::printf("kas       : %u\n", id.kas);
    std::printf("anatt     : %u\n", id.anatt);
    std::printf("anacap    : %#x\n", id.anacap);
    std::printf("anagrpmax : %u\n", id.anagrpmax);
    std::printf("nanagrpid : %u\n", id.nanagrpid);
    std::printf("sqes      : %#x\n", id.sqes);
    std::printf("cqes      : %#x\n", id.cqes);
    std::printf("maxcmd    : %u\n", id.maxcmd);
    std::printf("nn        : %u\n", id.nn);
    std::printf("mnan      : %u\n", id.mnan);
    std::printf("oncs      : %#x\n", id.oncs);
    std::printf("fuses     : %#x\n", id.fuses);
    std::printf("vwc       : %#x\n", id.vwc);
    std::printf("awun      : %u\n", id.awun);
    std::printf("awupf     : %u\n", id.awupf);
    std::printf("acwu      : %u\n", id.acwu);
    std::printf("sgls      : %#x\n", id.sgls);
    std::printf("subnqn    : %s\n", host::field_string(id.subnqn, sizeof(id.subnqn)).c_str());
    std::printf("ioccsz    : %u\n", id.ioccsz);
    std::printf("iorcsz    : %u\n", id.iorcsz);
    std::printf("icdoff    : %u\n", id.icdoff);
    std::printf("fcatt     : %#x\n", id.fcatt);
    std::printf("msdbd     : %u\n", id.msdbd);
    std::printf("ofcs      : %#x\n", id.ofcs);
    std::printf("\nController properties:\n");
    std::printf("cap       : %#" PRIx64 " (mqes %u, to %u ms)\n", cap,
                static_cast<unsigned>(cap & 0xffff) + 1,
                static_cast<unsigned>((cap >> 24) & 0xff) * 500);
    std::printf("vs        : %#x\n", vs);
}

void print_ana(const host::ana_log& log) {
    std::printf("\nAsymmetric Namespace Access Log (chgcnt %" PRIu64 ", %zu groups):\n", log.chgcnt,
                log.groups.size());
    for (const auto& [grpid, g] : log.groups) {
        std::string nsids;
        for (uint32_t n : g.nsids) nsids += (nsids.empty() ? "" : " ") + std::to_string(n);
        std::printf("anagrpid %u: %s, nsids [%s]\n", grpid, host::ana_state_name(g.state),
                    nsids.c_str());
    }
}

void print_ns(uint32_t nsid, const spec::identify_ns& ns, const std::vector<uint8_t>& desc) {
    std::printf("\nNVME Identify Namespace %u:\n", nsid);
    std::printf("nsze    : %#" PRIx64 "\n", ns.nsze);
    std::printf("ncap    : %#" PRIx64 "\n", ns.ncap);
    std::printf("nuse    : %#" PRIx64 "\n", ns.nuse);
    std::printf("nsfeat  : %#x\n", ns.nsfeat);
    std::printf("nlbaf   : %u\n", ns.nlbaf);
    std::printf("flbas   : %#x\n", ns.flbas);
    std::printf("mc      : %#x\n", ns.mc);
    std::printf("dpc     : %#x\n", ns.dpc);
    std::printf("dps     : %#x\n", ns.dps);
    std::printf("nmic    : %#x\n", ns.nmic);
    std::printf("rescap  : %#x\n", ns.rescap);
    std::printf("dlfeat  : %u\n", ns.dlfeat);
    std::printf("nawun   : %u\n", ns.nawun);
    std::printf("noiob   : %u\n", ns.noiob);
    std::printf("anagrpid: %u\n", ns.anagrpid);
    std::printf("nguid   : %s\n", hex_bytes(ns.nguid, sizeof(ns.nguid)).c_str());
    std::printf("eui64   : %s\n", hex_bytes(ns.eui64, sizeof(ns.eui64)).c_str());
    for (unsigned i = 0; i <= ns.nlbaf && i < 64; ++i) {
        const auto& f = ns.lbaf[i];
        std::printf("lbaf %2u : ms:%-3u lbads:%-2u rp:%#x %s\n", i, f.ms, f.lbads, f.rp & 0x3,
                    i == (ns.flbas & 0xfu) ? "(in use)" : "");
    }
    for (size_t off = 0; off + 4 <= desc.size() && desc[off] != 0;) {
        const uint8_t nidt = desc[off];
        const uint8_t nidl = desc[off + 1];
        if (off + 4 + nidl > desc.size()) break;
        const char* name = nidt == spec::nidt::eui64   ? "eui64"
                           : nidt == spec::nidt::nguid ? "nguid"
                           : nidt == spec::nidt::uuid  ? "uuid"
                           : nidt == spec::nidt::csi   ? "csi"
                                                       : "unknown";
        std::printf("nid %-5s: %s\n", name, hex_bytes(desc.data() + off + 4, nidl).c_str());
        off += 4 + nidl;
    }
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Identify an NVMe-oF target over TCP (discovery log or identify data)"};
    std::string trid_str = "trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:4420";
    std::string hostnqn;
    bool hdgst = false;
    bool ddgst = false;
    int timeout_ms = 10000;
    app.add_option("-r,--trid", trid_str,
                   "transport ID: 'trtype:TCP adrfam:IPv4 traddr:ADDR trsvcid:PORT subnqn:NQN'");
    app.add_option("--hostnqn", hostnqn, "host NQN (default: a random uuid NQN)");
    app.add_flag("--hdgst", hdgst, "enable header digests");
    app.add_flag("--ddgst", ddgst, "enable data digests");
    app.add_option("--timeout-ms", timeout_ms, "per-command timeout");
    std::string dhchap_key, dhchap_ctrlr_key, dhchap_digests, dhchap_dhgroups;
    app.add_option("--dhchap-key", dhchap_key,
                   "DH-HMAC-CHAP host key: a key file (0600) or the DHHC-1 text; used when the "
                   "target asks for authentication");
    app.add_option("--dhchap-ctrlr-key", dhchap_ctrlr_key,
                   "DH-HMAC-CHAP controller key (file or DHHC-1 text): authenticate the "
                   "target too");
    app.add_option("--dhchap-digests", dhchap_digests,
                   "digests to offer, e.g. sha256,sha384 (default: all)");
    app.add_option("--dhchap-dhgroups", dhchap_dhgroups,
                   "DH groups to offer, e.g. null,ffdhe2048 (default: all)");
    std::string psk;
    int psk_identity_version = 0;
    bool no_ktls = false;
    app.add_option("--psk", psk,
                   "TLS 1.3 with this PSK (NVMeTLSkey-1:HH:...: or a file holding it), for a "
                   "secure channel listener");
    app.add_option("--psk-identity-version", psk_identity_version,
                   "PSK identity to offer: 0 (NVMe0R, SPDK's) or 1 (NVMe1R with digest)")
        ->check(CLI::Range(0, 1));
    app.add_flag("--no-ktls", no_ktls, "keep the TLS record layer in OpenSSL (no kTLS)");
    bool concat = false;
    app.add_flag("--concat", concat,
                 "secure channel concatenation (as nvme connect --concat): DH-HMAC-CHAP on a "
                 "plain admin queue generates the TLS PSK; needs --dhchap-key")
        ->excludes("--psk");
    CLI11_PARSE(app, argc, argv);

    auto trid = host::parse_trid(trid_str);
    if (!trid) {
        std::fprintf(stderr, "nvmf-identify: %s\n", trid.err().message.c_str());
        return 2;
    }
    host::controller_options o;
    o.traddr = trid->traddr;
    o.trsvcid = trid->trsvcid;
    o.subnqn = trid->subnqn;
    o.hostnqn = !hostnqn.empty() ? hostnqn : trid->hostnqn;
    o.hdgst = hdgst;
    o.ddgst = ddgst;
    o.timeout_ms = timeout_ms;
    o.num_io_queues = 0;
    const bool discovery = o.subnqn == spec::discovery_nqn;
    if (discovery) o.kato_ms = 0;
    if (auto r = host::auth_from_args(o.auth, dhchap_key, dhchap_ctrlr_key, dhchap_digests,
                                      dhchap_dhgroups);
        !r) {
        std::fprintf(stderr, "nvmf-identify: %s\n", r.err().message.c_str());
        return 2;
    }
    if (!psk.empty()) {
        auto key = host::read_psk_argument(psk);
        if (!key) {
            std::fprintf(stderr, "nvmf-identify: %s\n", key.err().message.c_str());
            return 2;
        }
        o.psk = *key;
        o.psk_identity_version = psk_identity_version;
    }
    o.ktls = !no_ktls;
    o.concat = concat;
    if (concat && !o.auth.key) {
        std::fprintf(stderr, "nvmf-identify: --concat needs --dhchap-key\n");
        return 2;
    }

    auto c = host::controller::create(o);
    if (!c) {
        std::fprintf(stderr, "nvmf-identify: connect to %s:%s (%s): %s\n", o.traddr.c_str(),
                     o.trsvcid.c_str(), o.subnqn.c_str(), c.err().message.c_str());
        return 1;
    }
    auto& ctrlr = **c;
    if (ctrlr.admin_auth()) {
        std::printf("DH-HMAC-CHAP: authenticated (%s)\n",
                    host::describe(*ctrlr.admin_auth()).c_str());
    }
    if (ctrlr.tls()) std::printf("%s\n", host::tls_summary(ctrlr).c_str());
    int rc = 0;
    if (discovery) {
        auto log = host::get_discovery_log(ctrlr);
        if (!log) {
            std::fprintf(stderr, "nvmf-identify: %s\n", log.err().message.c_str());
            return 1;
        }
        print_discovery(*log);
    } else {
        auto vs = ctrlr.get_property(spec::prop::vs);
        print_ctrlr(ctrlr.data(), ctrlr.cap(), vs ? static_cast<uint32_t>(*vs) : 0);
        if (ctrlr.data().cmic & spec::cmic::ana_reporting) {
            auto ana = host::get_ana_log(ctrlr, false, true);
            if (ana) {
                print_ana(*ana);
            } else {
                std::fprintf(stderr, "nvmf-identify: %s\n", ana.err().message.c_str());
                rc = 1;
            }
        }
        auto list = ctrlr.active_ns_list(0);
        if (!list) {
            std::fprintf(stderr, "nvmf-identify: %s\n", list.err().message.c_str());
            rc = 1;
        } else {
            for (uint32_t nsid : *list) {
                auto ns = ctrlr.identify_ns(nsid);
                if (!ns) {
                    std::fprintf(stderr, "nvmf-identify: nsid %u: %s\n", nsid,
                                 ns.err().message.c_str());
                    rc = 1;
                    continue;
                }
                std::vector<uint8_t> desc(4096);
                auto d = ctrlr.identify(spec::cns::ns_id_descriptor_list, nsid, desc);
                if (!d || !d->ok()) desc.clear();
                print_ns(nsid, *ns, desc);
            }
        }
    }
    (void)ctrlr.shutdown();
    ctrlr.disconnect();
    return rc;
}
