// Fuzzes JSON-RPC request handling: arbitrary bytes go through the server's
// framing (rpc::stream_splitter, fed in uneven pieces as a socket would) and
// every complete value through rpc::handle_message, the method table included,
// against a real in-process target (a reactor thread, TCP transport, malloc
// and null bdevs, subsystems, listeners). Each input gets a fresh target so
// inputs do not depend on each other; one that starts with a space runs in
// the RPC STARTUP state. Whatever arrives, the server must answer
// or drop that client: no crash, no leak, no hang.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "nvmf/target.hpp"
#include "reactor/reactor.hpp"
#include "rpc/jsonrpc.hpp"
#include "rpc/methods.hpp"

namespace {

using nlohmann::json;

// One reactor with its own thread, as in the daemon: methods that wait on a
// reactor (stop_listen, transport shutdown) must really wait.
struct rpc_env {
    nvmf::reactor_group rg{std::vector<int>{}};

    rpc_env() {
        spdlog::set_level(spdlog::level::off);
        rg.start();
    }

    // Never destroyed: libFuzzer may exit from any thread, and a reactor
    // joined during static destruction would race with it.
    static rpc_env& get() {
        static rpc_env* env = new rpc_env();
        return *env;
    }
};

// The fuzzer must not open sockets beyond the loopback network, nor files of
// the machine (a file bdev stores its UUID in the file's extended attribute):
// a value with a "traddr" outside 127.0.0.0/8, or a "filename", "ptpl_file",
// "config_file" or "key_file" outside /nonexistent/, is not run (the input
// stops there).
bool contained(const json& v) {
    if (v.is_array()) {
        for (const auto& e : v) {
            if (!contained(e)) return false;
        }
        return true;
    }
    if (!v.is_object()) return true;
    for (const auto& [key, e] : v.items()) {
        if (key == "traddr" && (!e.is_string() || e.get<std::string>().rfind("127.", 0) != 0)) {
            return false;
        }
        if ((key == "filename" || key == "ptpl_file" || key == "config_file" ||
             key == "key_file") &&
            (!e.is_string() || e.get<std::string>().rfind("/nonexistent/", 0) != 0 ||
             e.get<std::string>().find("..") != std::string::npos)) {
            return false;
        }
        if (!contained(e)) return false;
    }
    return true;
}

// Nor may it reach a Ceph cluster (librados would read /etc/ceph/ceph.conf
// and connect to its monitors): bdev_rbd_register_cluster runs only with a
// config_file under /nonexistent/ and no config pairs, bdev_rbd_create only
// through a cluster_name (never a connection of its own).
bool ceph_contained(const json& msg) {
    if (msg.is_array()) {
        for (const auto& m : msg) {
            if (!ceph_contained(m)) return false;
        }
        return true;
    }
    if (!msg.is_object()) return true;
    auto m = msg.find("method");
    if (m == msg.end() || !m->is_string()) return true;
    const json none = json::object();
    auto pit = msg.find("params");
    const json& p = (pit != msg.end() && pit->is_object()) ? *pit : none;
    const auto has_pairs = [&](const char* key) {
        auto it = p.find(key);
        return it != p.end() && it->is_object() && !it->empty();
    };
    if (*m == "bdev_rbd_register_cluster") {
        auto f = p.find("config_file");
        return f != p.end() && f->is_string() &&
               f->get<std::string>().rfind("/nonexistent/", 0) == 0 && !has_pairs("config_param");
    }
    if (*m == "bdev_rbd_create") {
        auto c = p.find("cluster_name");
        return c != p.end() && c->is_string() && !c->get<std::string>().empty() &&
               !has_pairs("config");
    }
    return true;
}

constexpr uint64_t ram_limit_bytes = uint64_t{256} << 20;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto& env = rpc_env::get();
    auto tgt = std::make_unique<nvmf::target>(env.rg);
    // As the daemon's --mem-size: RAM disks past it are refused, so an input
    // cannot make the process outgrow the fuzzer's RSS limit (-rss_limit_mb).
    tgt->bdevs.set_ram_limit(ram_limit_bytes);
    {
        // A leading space runs the input in SPDK's STARTUP state (the daemon
        // with --wait-for-rpc), where framework_start_init moves it on.
        nvmf::rpc::framework fw(size > 0 && data[0] == ' ' ? nvmf::rpc::state_startup
                                                           : nvmf::rpc::state_runtime);
        nvmf::rpc::context ctx(*tgt, &fw);
        nvmf::rpc::stream_splitter in;
        const std::string_view bytes(reinterpret_cast<const char*>(data), size);
        size_t off = 0;
        bool open = true;
        while (open && off < size) {
            // Uneven pieces, decided by the bytes themselves so seeds stay readable JSON.
            const size_t chunk = std::min<size_t>(1 + data[off] % 97, size - off);
            in.append(bytes.substr(off, chunk));
            off += chunk;
            for (;;) {
                std::string text, why;
                const auto st = in.next(&text, &why);
                if (st == nvmf::rpc::stream_splitter::status::need_more) break;
                if (st == nvmf::rpc::stream_splitter::status::error) {
                    // The server answers -32700 and closes the client.
                    (void)nvmf::rpc::make_error_response(nullptr, -32700, why).dump();
                    open = false;
                    break;
                }
                // As server::run(): text that is not JSON ends the client.
                const json msg = json::parse(text, nullptr, false);
                if (msg.is_discarded()) {
                    (void)nvmf::rpc::make_error_response(nullptr, -32700, "Parse error").dump();
                    open = false;
                    break;
                }
                if (!contained(msg) || !ceph_contained(msg)) {
                    open = false;
                    break;
                }
                const json resp = nvmf::rpc::handle_message(ctx, msg);
                // As the server writes it: invalid UTF-8 from a method is replaced, not thrown.
                (void)resp.dump(-1, ' ', false, json::error_handler_t::replace);
            }
        }
    }
    // Tears down what the input built: controllers, listeners, transports, bdevs.
    tgt.reset();
    return 0;
}
