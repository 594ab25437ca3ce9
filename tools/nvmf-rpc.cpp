// nvmf-rpc: JSON-RPC client for nvmf-target, in the style of SPDK's rpc.py.
//
//   nvmf-rpc [-s SOCK] METHOD [ARGS]        e.g. nvmf-rpc nvmf_create_subsystem NQN -a -s SN
//   nvmf-rpc [-s SOCK] --raw METHOD ['{json params}']
//   nvmf-rpc METHOD --help                  the arguments of one method
//
// Prints the result as JSON (a string result is printed bare); on error prints
// the code and message to stderr and exits 1; a usage error exits 2.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "rpc/jsonrpc.hpp"
#include "rpc/server.hpp"

namespace {

using json = nlohmann::json;

// Sets params[key] when the option was given.
template <typename T>
void put(json& p, const char* key, const std::optional<T>& v) {
    if (v) p[key] = *v;
}

struct method_cli {
    std::string help;
    // Adds the method's arguments to app; returns the builder of params.
    std::function<std::function<json()>(CLI::App&)> setup;
};

json listen_address(const std::string& trtype, const std::string& traddr,
                    const std::optional<std::string>& trsvcid,
                    const std::optional<std::string>& adrfam) {
    json a{{"trtype", trtype}, {"traddr", traddr}};
    put(a, "trsvcid", trsvcid);
    put(a, "adrfam", adrfam);
    return a;
}

std::map<std::string, method_cli> methods() {
    std::map<std::string, method_cli> m;
    auto simple = [&](const char* name, const char* help) {
        m[name] = {help, [](CLI::App&) { return [] { return json(nullptr); }; }};
    };
    auto nqn_only = [&](const char* name, const char* help) {
        m[name] = {help, [](CLI::App& app) {
                       auto nqn = std::make_shared<std::string>();
                       app.add_option("nqn", *nqn, "subsystem NQN")->required();
                       return [nqn] { return json{{"nqn", *nqn}}; };
                   }};
    };

    simple("rpc_get_methods", "list the methods");
    simple("spdk_get_version", "the target's version");
    simple("save_config", "the configuration as a JSON config file");
    simple("framework_start_init", "no-op (kept for SPDK configs)");
    simple("bdev_wait_for_examine", "no-op (kept for SPDK configs)");
    simple("nvmf_get_stats", "queue pair and I/O counters per reactor and transport");

    for (const char* kind : {"malloc", "null"}) {
        const bool is_malloc = std::strcmp(kind, "malloc") == 0;
        m[std::string("bdev_") + kind + "_create"] = {
            is_malloc ? "create a RAM bdev: [-b NAME] SIZE_MIB BLOCK_SIZE [-u UUID]"
                      : "create a null bdev: NAME SIZE_MIB BLOCK_SIZE [-u UUID]",
            [is_malloc](CLI::App& app) {
                struct s {
                    std::string name;
                    uint64_t size_mib = 0;
                    uint32_t block_size = 0;
                    std::optional<std::string> uuid;
                };
                auto v = std::make_shared<s>();
                if (is_malloc) {
                    app.add_option("-b,--name", v->name, "bdev name (default MallocN)");
                } else {
                    app.add_option("name", v->name, "bdev name")->required();
                }
                app.add_option("total_size", v->size_mib, "size in MiB")->required();
                app.add_option("block_size", v->block_size, "block size in bytes")->required();
                app.add_option("-u,--uuid", v->uuid, "UUID of the bdev");
                return [v] {
                    json p;
                    if (!v->name.empty()) p["name"] = v->name;
                    p["num_blocks"] = v->block_size ? v->size_mib * 1024 * 1024 / v->block_size : 0;
                    p["block_size"] = v->block_size;
                    put(p, "uuid", v->uuid);
                    return p;
                };
            }};
        m[std::string("bdev_") + kind + "_delete"] = {
            "delete a bdev: NAME", [](CLI::App& app) {
                auto n = std::make_shared<std::string>();
                app.add_option("name", *n, "bdev name")->required();
                return [n] { return json{{"name", *n}}; };
            }};
    }
    m["bdev_get_bdevs"] = {"list bdevs: [-b NAME]", [](CLI::App& app) {
                               auto n = std::make_shared<std::optional<std::string>>();
                               app.add_option("-b,--name", *n, "only this bdev");
                               return [n] {
                                   json p = json::object();
                                   put(p, "name", *n);
                                   return p.empty() ? json(nullptr) : p;
                               };
                           }};

    m["nvmf_create_transport"] = {
        "create a transport: -t TCP|RDMA [options]", [](CLI::App& app) {
            struct s {
                std::string trtype;
                std::optional<uint32_t> q, mq, c, i, u, a, n, b, y, x, e, k, d, srq, backlog, cqe;
                bool no_c2h = false, dif = false, zcopy = false, no_srq = false, no_batch = false;
            };
            auto v = std::make_shared<s>();
            app.add_option("-t,--trtype", v->trtype, "transport type (TCP or RDMA)")->required();
            app.add_option("-q,--max-queue-depth", v->q, "max_queue_depth");
            app.add_option("-m,--max-io-qpairs-per-ctrlr", v->mq, "max_io_qpairs_per_ctrlr");
            app.add_option("-c,--in-capsule-data-size", v->c, "in_capsule_data_size");
            app.add_option("-i,--max-io-size", v->i, "max_io_size");
            app.add_option("-u,--io-unit-size", v->u, "io_unit_size");
            app.add_option("-a,--max-aq-depth", v->a, "max_aq_depth");
            app.add_option("-n,--num-shared-buffers", v->n, "num_shared_buffers");
            app.add_option("-b,--buf-cache-size", v->b, "buf_cache_size");
            app.add_option("-y,--sock-priority", v->y, "sock_priority");
            app.add_option("-x,--abort-timeout-sec", v->x, "abort_timeout_sec");
            app.add_option("-e,--control-msg-num", v->e, "control_msg_num");
            app.add_option("-k,--ack-timeout", v->k, "ack_timeout");
            app.add_option("-d,--data-wr-pool-size", v->d, "data_wr_pool_size");
            app.add_flag("-o,--c2h-success", v->no_c2h, "disable C2H success optimization");
            app.add_flag("-f,--dif-insert-or-strip", v->dif, "dif_insert_or_strip");
            app.add_flag("-z,--zcopy", v->zcopy, "zcopy");
            // RDMA only, with rpc.py's flags.
            app.add_option("-s,--max-srq-depth", v->srq, "max_srq_depth (RDMA)");
            app.add_flag("-r,--no-srq", v->no_srq, "no_srq: per-QP receive queues (RDMA)");
            app.add_option("-l,--acceptor-backlog", v->backlog, "acceptor_backlog (RDMA)");
            app.add_flag("--no-wr-batching", v->no_batch, "no_wr_batching (RDMA)");
            app.add_option("--num-cqe", v->cqe, "num_cqe (RDMA)");
            return [v] {
                json p{{"trtype", v->trtype}};
                put(p, "max_queue_depth", v->q);
                put(p, "max_io_qpairs_per_ctrlr", v->mq);
                put(p, "in_capsule_data_size", v->c);
                put(p, "max_io_size", v->i);
                put(p, "io_unit_size", v->u);
                put(p, "max_aq_depth", v->a);
                put(p, "num_shared_buffers", v->n);
                put(p, "buf_cache_size", v->b);
                put(p, "sock_priority", v->y);
                put(p, "abort_timeout_sec", v->x);
                put(p, "control_msg_num", v->e);
                put(p, "ack_timeout", v->k);
                put(p, "data_wr_pool_size", v->d);
                if (v->no_c2h) p["c2h_success"] = false;
                if (v->dif) p["dif_insert_or_strip"] = true;
                if (v->zcopy) p["zcopy"] = true;
                put(p, "max_srq_depth", v->srq);
                put(p, "acceptor_backlog", v->backlog);
                put(p, "num_cqe", v->cqe);
                if (v->no_srq) p["no_srq"] = true;
                if (v->no_batch) p["no_wr_batching"] = true;
                return p;
            };
        }};
    m["nvmf_get_transports"] = {"list transports: [--trtype T]", [](CLI::App& app) {
                                    auto t = std::make_shared<std::optional<std::string>>();
                                    app.add_option("--trtype", *t, "only this transport");
                                    return [t] {
                                        json p = json::object();
                                        put(p, "trtype", *t);
                                        return p.empty() ? json(nullptr) : p;
                                    };
                                }};

    m["nvmf_create_subsystem"] = {
        "create a subsystem: NQN [-s SN] [-d MODEL] [-a] [-m MAX_NS] [-i MIN] [-I MAX] [-r]",
        [](CLI::App& app) {
            struct s {
                std::string nqn;
                std::optional<std::string> sn, mn;
                std::optional<uint32_t> max_ns;
                std::optional<uint16_t> min_c, max_c;
                bool any = false, ana = false;
            };
            auto v = std::make_shared<s>();
            app.add_option("nqn", v->nqn, "subsystem NQN")->required();
            app.add_option("-s,--serial-number", v->sn, "serial number");
            app.add_option("-d,--model-number", v->mn, "model number");
            app.add_flag("-a,--allow-any-host", v->any, "allow any host");
            app.add_option("-m,--max-namespaces", v->max_ns, "max namespaces");
            app.add_option("-i,--min-cntlid", v->min_c, "min controller ID");
            app.add_option("-I,--max-cntlid", v->max_c, "max controller ID");
            app.add_flag("-r,--ana-reporting", v->ana, "ANA reporting");
            return [v] {
                json p{{"nqn", v->nqn}};
                put(p, "serial_number", v->sn);
                put(p, "model_number", v->mn);
                if (v->any) p["allow_any_host"] = true;
                put(p, "max_namespaces", v->max_ns);
                put(p, "min_cntlid", v->min_c);
                put(p, "max_cntlid", v->max_c);
                if (v->ana) p["ana_reporting"] = true;
                return p;
            };
        }};
    nqn_only("nvmf_delete_subsystem", "delete a subsystem: NQN");
    m["nvmf_get_subsystems"] = {"list subsystems: [NQN]", [](CLI::App& app) {
                                    auto n = std::make_shared<std::optional<std::string>>();
                                    app.add_option("nqn", *n, "only this subsystem");
                                    return [n] {
                                        json p = json::object();
                                        put(p, "nqn", *n);
                                        return p.empty() ? json(nullptr) : p;
                                    };
                                }};
    for (const char* name : {"nvmf_subsystem_add_listener", "nvmf_subsystem_remove_listener"}) {
        const bool add = std::strcmp(name, "nvmf_subsystem_add_listener") == 0;
        m[name] = {add ? "NQN -t TRTYPE -a TRADDR -s TRSVCID [-f ADRFAM] [-k] [--secure-concat]"
                       : "NQN -t TRTYPE -a TRADDR -s TRSVCID [-f ADRFAM]",
                   [add](CLI::App& app) {
                       struct s {
                           std::string nqn, trtype, traddr;
                           std::optional<std::string> trsvcid, adrfam;
                           bool secure = false;
                           bool concat = false;
                       };
                       auto v = std::make_shared<s>();
                       app.add_option("nqn", v->nqn, "subsystem NQN")->required();
                       app.add_option("-t,--trtype", v->trtype, "transport type (tcp)")->required();
                       app.add_option("-a,--traddr", v->traddr, "address")->required();
                       app.add_option("-s,--trsvcid", v->trsvcid, "port");
                       app.add_option("-f,--adrfam", v->adrfam, "ipv4 or ipv6");
                       if (add) {
                           app.add_flag("-k,--secure-channel", v->secure,
                                        "TLS 1.3 only on this listener (secure_channel)");
                           app.add_flag("--secure-concat", v->concat,
                                        "TLS 1.3, and plain TCP admin queues that generate their "
                                        "TLS PSK with DH-HMAC-CHAP (secure channel "
                                        "concatenation; secure_concat)");
                       }
                       return [v] {
                           json p{{"nqn", v->nqn},
                                  {"listen_address",
                                   listen_address(v->trtype, v->traddr, v->trsvcid, v->adrfam)}};
                           if (v->secure) p["secure_channel"] = true;
                           if (v->concat) p["secure_concat"] = true;
                           return p;
                       };
                   }};
    }
    m["nvmf_subsystem_listener_set_ana_state"] = {
        "set a listener's ANA state: NQN -n STATE -t TRTYPE -a TRADDR -s TRSVCID [-f ADRFAM] "
        "[-g ANAGRPID]",
        [](CLI::App& app) {
            struct s {
                std::string nqn, state, trtype, traddr;
                std::optional<std::string> trsvcid, adrfam;
                std::optional<uint32_t> anagrpid;
            };
            auto v = std::make_shared<s>();
            app.add_option("nqn", v->nqn, "subsystem NQN")->required();
            app.add_option("-n,--ana-state", v->state,
                           "optimized, non_optimized, inaccessible, persistent_loss or change")
                ->required();
            app.add_option("-t,--trtype", v->trtype, "transport type (tcp)")->required();
            app.add_option("-a,--traddr", v->traddr, "address")->required();
            app.add_option("-s,--trsvcid", v->trsvcid, "port");
            app.add_option("-f,--adrfam", v->adrfam, "ipv4 or ipv6");
            app.add_option("-g,--anagrpid", v->anagrpid, "ANA group (default: every group)");
            return [v] {
                json p{{"nqn", v->nqn},
                       {"ana_state", v->state},
                       {"listen_address",
                        listen_address(v->trtype, v->traddr, v->trsvcid, v->adrfam)}};
                put(p, "anagrpid", v->anagrpid);
                return p;
            };
        }};
    nqn_only("nvmf_subsystem_get_listeners", "listeners of a subsystem: NQN");
    nqn_only("nvmf_subsystem_get_controllers", "controllers of a subsystem: NQN");
    nqn_only("nvmf_subsystem_get_qpairs", "queue pairs of a subsystem: NQN");
    m["nvmf_subsystem_add_ns"] = {
        "add a namespace: NQN BDEV [-n NSID] [-u UUID] [-g NGUID] [-e EUI64] [-a ANAGRPID] "
        "[-p PTPL_FILE] [-i]",
        [](CLI::App& app) {
            struct s {
                std::string nqn, bdev;
                std::optional<uint32_t> nsid, anagrpid;
                std::optional<std::string> uuid, nguid, eui64, ptpl_file;
                bool no_auto_visible = false;
            };
            auto v = std::make_shared<s>();
            app.add_option("nqn", v->nqn, "subsystem NQN")->required();
            app.add_option("bdev_name", v->bdev, "bdev to export")->required();
            app.add_option("-n,--nsid", v->nsid, "namespace ID");
            app.add_option("-u,--uuid", v->uuid, "namespace UUID");
            app.add_option("-g,--nguid", v->nguid, "namespace NGUID (32 hex digits)");
            app.add_option("-e,--eui64", v->eui64, "namespace EUI-64 (16 hex digits)");
            app.add_option("-a,--anagrpid", v->anagrpid, "ANA group (default: the NSID)");
            app.add_option("-p,--ptpl-file", v->ptpl_file,
                           "file where reservations persist through power loss");
            app.add_flag("-i,--no-auto-visible", v->no_auto_visible,
                         "active only for the hosts nvmf_ns_add_host names");
            return [v] {
                json ns{{"bdev_name", v->bdev}};
                put(ns, "nsid", v->nsid);
                put(ns, "anagrpid", v->anagrpid);
                put(ns, "uuid", v->uuid);
                put(ns, "nguid", v->nguid);
                put(ns, "eui64", v->eui64);
                put(ns, "ptpl_file", v->ptpl_file);
                if (v->no_auto_visible) ns["no_auto_visible"] = true;
                return json{{"nqn", v->nqn}, {"namespace", ns}};
            };
        }};
    for (const char* name : {"nvmf_ns_add_host", "nvmf_ns_remove_host"}) {
        m[name] = {std::string(name) == "nvmf_ns_add_host"
                       ? "make a no_auto_visible namespace active for a host: NQN NSID HOST"
                       : "make a no_auto_visible namespace inactive for a host: NQN NSID HOST",
                   [](CLI::App& app) {
                       auto nqn = std::make_shared<std::string>();
                       auto host = std::make_shared<std::string>();
                       auto nsid = std::make_shared<uint32_t>(0);
                       app.add_option("nqn", *nqn, "subsystem NQN")->required();
                       app.add_option("nsid", *nsid, "namespace ID")->required();
                       app.add_option("host", *host, "host NQN")->required();
                       return [nqn, nsid, host] {
                           return json{{"nqn", *nqn}, {"nsid", *nsid}, {"host", *host}};
                       };
                   }};
    }
    m["nvmf_subsystem_remove_ns"] = {"remove a namespace: NQN NSID", [](CLI::App& app) {
                                         auto nqn = std::make_shared<std::string>();
                                         auto nsid = std::make_shared<uint32_t>(0);
                                         app.add_option("nqn", *nqn, "subsystem NQN")->required();
                                         app.add_option("nsid", *nsid, "namespace ID")->required();
                                         return [nqn, nsid] {
                                             return json{{"nqn", *nqn}, {"nsid", *nsid}};
                                         };
                                     }};
    m["nvmf_subsystem_remove_host"] = {"NQN HOSTNQN", [](CLI::App& app) {
                                           auto nqn = std::make_shared<std::string>();
                                           auto host = std::make_shared<std::string>();
                                           app.add_option("nqn", *nqn, "subsystem NQN")->required();
                                           app.add_option("host", *host, "host NQN")->required();
                                           return [nqn, host] {
                                               return json{{"nqn", *nqn}, {"host", *host}};
                                           };
                                       }};
    // Keys are keyring names (keyring_file_add_key), as in rpc.py.
    for (const char* name : {"nvmf_subsystem_add_host", "nvmf_subsystem_set_keys"}) {
        const bool add = std::strcmp(name, "nvmf_subsystem_add_host") == 0;
        m[name] = {add ? "NQN HOSTNQN [--dhchap-key KEY] [--dhchap-ctrlr-key KEY] [--psk KEY]"
                       : "NQN HOSTNQN [--dhchap-key KEY] [--dhchap-ctrlr-key KEY]",
                   [add](CLI::App& app) {
                       struct s {
                           std::string nqn, host;
                           std::optional<std::string> key, ckey, psk;
                       };
                       auto a = std::make_shared<s>();
                       app.add_option("nqn", a->nqn, "subsystem NQN")->required();
                       app.add_option("host", a->host, "host NQN")->required();
                       app.add_option("--dhchap-key", a->key, "DH-HMAC-CHAP key (keyring name)");
                       app.add_option("--dhchap-ctrlr-key", a->ckey,
                                      "DH-HMAC-CHAP controller key (keyring name)");
                       if (add)
                           app.add_option("--psk", a->psk, "the host's TLS PSK (keyring name)");
                       return [a] {
                           json p{{"nqn", a->nqn}, {"host", a->host}};
                           put(p, "dhchap_key", a->key);
                           put(p, "dhchap_ctrlr_key", a->ckey);
                           put(p, "psk", a->psk);
                           return p;
                       };
                   }};
    }
    m["keyring_file_add_key"] = {
        "NAME PATH (a key file: absolute path, mode 0600)", [](CLI::App& app) {
            auto name = std::make_shared<std::string>();
            auto path = std::make_shared<std::string>();
            app.add_option("name", *name, "key name")->required();
            app.add_option("path", *path, "key file")->required();
            return [name, path] { return json{{"name", *name}, {"path", *path}}; };
        }};
    m["keyring_file_remove_key"] = {"NAME", [](CLI::App& app) {
                                        auto name = std::make_shared<std::string>();
                                        app.add_option("name", *name, "key name")->required();
                                        return [name] { return json{{"name", *name}}; };
                                    }};
    simple("keyring_get_keys", "the keys in the keyring (names and paths)");
    m["nvmf_set_config"] = {
        "[--dhchap-digests sha256,sha384,...] [--dhchap-dhgroups null,ffdhe2048,...]",
        [](CLI::App& app) {
            struct s {
                std::optional<std::string> digests, groups;
            };
            auto a = std::make_shared<s>();
            app.add_option("--dhchap-digests", a->digests, "comma-separated digests");
            app.add_option("--dhchap-dhgroups", a->groups, "comma-separated DH groups");
            return [a] {
                auto split = [](const std::string& v) {
                    json out = json::array();
                    size_t b = 0;
                    while (b <= v.size()) {
                        const size_t e = std::min(v.find(',', b), v.size());
                        if (e > b) out.push_back(v.substr(b, e - b));
                        b = e + 1;
                    }
                    return out;
                };
                json p = json::object();
                if (a->digests) p["dhchap_digests"] = split(*a->digests);
                if (a->groups) p["dhchap_dhgroups"] = split(*a->groups);
                return p;
            };
        }};
    simple("keyring_get_keys", "list the keys (names and paths)");
    m["sock_impl_get_options"] = {
        "-i IMPL (ssl: TLS options)", [](CLI::App& app) {
            auto impl = std::make_shared<std::string>();
            app.add_option("-i,--impl", *impl, "posix or ssl")->required();
            return [impl] { return json{{"impl_name", *impl}}; };
        }};
    m["sock_impl_set_options"] = {
        "-i IMPL [--ktls | --no-ktls] [--tls-version N]", [](CLI::App& app) {
            struct s {
                std::string impl;
                bool ktls = false, no_ktls = false;
                std::optional<uint32_t> version;
            };
            auto v = std::make_shared<s>();
            app.add_option("-i,--impl", v->impl, "posix or ssl")->required();
            app.add_flag("--ktls", v->ktls, "kernel TLS for the record layer (ssl)");
            app.add_flag("--no-ktls", v->no_ktls, "OpenSSL's record layer (ssl)");
            app.add_option("--tls-version", v->version, "0 or 13 (ssl)");
            return [v] {
                json p{{"impl_name", v->impl}};
                if (v->ktls || v->no_ktls) p["enable_ktls"] = v->ktls;
                put(p, "tls_version", v->version);
                return p;
            };
        }};
    m["nvmf_subsystem_allow_any_host"] = {
        "NQN (-e | -d)", [](CLI::App& app) {
            auto nqn = std::make_shared<std::string>();
            auto en = std::make_shared<bool>(false);
            auto dis = std::make_shared<bool>(false);
            app.add_option("nqn", *nqn, "subsystem NQN")->required();
            auto* mode = app.add_option_group("mode", "-e or -d");
            mode->add_flag("-e,--enable", *en, "allow any host");
            mode->add_flag("-d,--disable", *dis, "allowed hosts only");
            mode->require_option(1);
            // CLI11 writes through references to *en and *dis while parsing,
            // after this function returned: the builder keeps both alive.
            return [nqn, en, dis] { return json{{"nqn", *nqn}, {"allow_any_host", *en}}; };
        }};
    return m;
}

int usage(const std::map<std::string, method_cli>& m, FILE* out) {
    std::fprintf(out,
                 "usage: nvmf-rpc [-s SOCK] METHOD [ARGS]\n"
                 "       nvmf-rpc [-s SOCK] --raw METHOD ['{json params}']\n"
                 "  -s, --server SOCK   RPC socket (default %s)\n\nmethods:\n",
                 nvmf::rpc::default_socket_path);
    for (auto& [name, mc] : m) std::fprintf(out, "  %-32s %s\n", name.c_str(), mc.help.c_str());
    return out == stderr ? 2 : 0;
}

// Sends one request, reads one response.
int call(const std::string& sock, const std::string& method, const json& params) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    if (sock.size() >= sizeof(a.sun_path)) {
        std::fprintf(stderr, "nvmf-rpc: socket path too long: %s\n", sock.c_str());
        return 1;
    }
    std::memcpy(a.sun_path, sock.c_str(), sock.size() + 1);
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
        std::fprintf(stderr, "nvmf-rpc: cannot connect to %s: %s (is nvmf-target running?)\n",
                     sock.c_str(), std::strerror(errno));
        if (fd >= 0) close(fd);
        return 1;
    }
    json req{{"jsonrpc", "2.0"}, {"id", 1}, {"method", method}};
    if (!params.is_null()) req["params"] = params;
    const std::string text = req.dump();
    for (size_t off = 0; off < text.size();) {
        const ssize_t n = send(fd, text.data() + off, text.size() - off, MSG_NOSIGNAL);
        if (n <= 0) {
            std::fprintf(stderr, "nvmf-rpc: send: %s\n", std::strerror(errno));
            close(fd);
            return 1;
        }
        off += static_cast<size_t>(n);
    }
    nvmf::rpc::stream_splitter in;
    std::string value, why;
    char buf[65536];
    for (;;) {
        const auto st = in.next(&value, &why);
        if (st == nvmf::rpc::stream_splitter::status::value) break;
        if (st == nvmf::rpc::stream_splitter::status::error) {
            std::fprintf(stderr, "nvmf-rpc: bad response: %s\n", why.c_str());
            close(fd);
            return 1;
        }
        const ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n <= 0) {
            std::fprintf(stderr, "nvmf-rpc: connection closed before a response\n");
            close(fd);
            return 1;
        }
        in.append(std::string_view(buf, static_cast<size_t>(n)));
    }
    close(fd);
    json resp = json::parse(value, nullptr, false);
    if (resp.is_discarded() || !resp.is_object()) {
        std::fprintf(stderr, "nvmf-rpc: response is not JSON: %s\n", value.c_str());
        return 1;
    }
    if (auto e = resp.find("error"); e != resp.end()) {
        std::fprintf(stderr, "request:\n%s\nerror %d: %s\n", req.dump(2).c_str(),
                     e->value("code", 0), e->value("message", std::string("?")).c_str());
        return 1;
    }
    const json& r = resp["result"];
    if (r.is_string()) {
        std::printf("%s\n", r.get<std::string>().c_str());
    } else if (!(r.is_boolean() && r.get<bool>())) {
        std::printf("%s\n", r.dump(2).c_str());
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const auto table = methods();
    std::string sock = nvmf::rpc::default_socket_path;
    bool raw = false;
    int i = 1;
    for (; i < argc; ++i) {
        const std::string a = argv[i];
        if ((a == "-s" || a == "--server") && i + 1 < argc) {
            sock = argv[++i];
        } else if (a == "--raw") {
            raw = true;
        } else if (a == "-h" || a == "--help") {
            return usage(table, stdout);
        } else {
            break;
        }
    }
    if (i >= argc) return usage(table, stderr);
    const std::string method = argv[i++];

    if (raw) {
        json params = nullptr;
        if (i < argc) {
            params = json::parse(argv[i++], nullptr, false);
            if (params.is_discarded()) {
                std::fprintf(stderr, "nvmf-rpc: params are not valid JSON: %s\n", argv[i - 1]);
                return 2;
            }
        }
        if (i < argc) {
            std::fprintf(stderr, "nvmf-rpc: --raw takes METHOD and one JSON argument\n");
            return 2;
        }
        return call(sock, method, params);
    }

    auto it = table.find(method);
    if (it == table.end()) {
        std::fprintf(stderr,
                     "nvmf-rpc: unknown method '%s' (use --raw for methods without a CLI)\n",
                     method.c_str());
        return 2;
    }
    CLI::App app{it->second.help, "nvmf-rpc " + method};
    auto build = it->second.setup(app);
    std::vector<std::string> rest(argv + i, argv + argc);
    std::reverse(rest.begin(), rest.end());  // CLI11 takes the arguments reversed
    try {
        app.parse(rest);
    } catch (const CLI::ParseError& e) {
        // --help exits 0; a usage error exits 2 as rpc.py's argparse does
        // (CLI11's own codes, such as 106, would read as a failed request).
        return app.exit(e) == 0 ? 0 : 2;
    }
    return call(sock, method, build());
}
