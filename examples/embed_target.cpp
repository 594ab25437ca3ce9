// Embedding the target with the asynchronous API (include/nvmf/api.hpp):
// a TCP transport, one subsystem with a 64 MiB RAM namespace, one listener.
// Runs until SIGINT/SIGTERM, or for --seconds N.
//
//   embed_target [--addr 127.0.0.1] [--port 4420] [--nqn NQN] [--seconds N]
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "nvmf/api.hpp"

namespace {

template <typename T>
bool check(const nvmf::result<T>& r, const char* what) {
    if (!r) {
        std::fprintf(stderr, "embed_target: %s failed: %s (%d)\n", what, r.err().message.c_str(),
                     r.err().code);
        return false;
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    std::string addr = "127.0.0.1", port = "4420", nqn = "nqn.2026-11.io.nvmf-target:embedded";
    long seconds = 0;
    for (int i = 1; i < argc; ++i) {
        auto arg = [&](const char* name) {
            return std::strcmp(argv[i], name) == 0 && i + 1 < argc;
        };
        if (arg("--addr")) {
            addr = argv[++i];
        } else if (arg("--port")) {
            port = argv[++i];
        } else if (arg("--nqn")) {
            nqn = argv[++i];
        } else if (arg("--seconds")) {
            seconds = std::strtol(argv[++i], nullptr, 10);
        } else {
            std::fprintf(stderr, "usage: %s [--addr A] [--port P] [--nqn NQN] [--seconds N]\n",
                         argv[0]);
            return 2;
        }
    }

    // Signals are taken by sigwait below; block them before any thread starts.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);

    auto handle = nvmf::api::target_handle::create({});
    if (!check(handle, "create target")) return 1;
    auto& tgt = **handle;

    // 1. A TCP transport with options of our own.
    nvmf::transport_options topts;
    topts.max_queue_depth = 64;
    topts.in_capsule_data_size = 8192;
    auto t = tgt.create_transport(topts).get();
    if (!check(t, "create_transport")) return 1;
    // 2. Given to the target.
    if (!check(tgt.add_transport(std::move(*t)).get(), "add_transport")) return 1;

    // 3. A subsystem, 4. a RAM namespace, with the callback form this time:
    // the callback runs on the API's control thread.
    nvmf::subsystem_params sp;
    sp.allow_any_host = true;
    sp.serial_number = "EMBED0000000001";
    sp.model_number = "nvmf-target embedded";
    std::promise<bool> ns_done;
    tgt.create_subsystem(nqn, sp, [&](const nvmf::result<void>& r) {
        if (!check(r, "create_subsystem")) return ns_done.set_value(false);
        tgt.create_malloc_bdev("Ram0", 16384, 4096, [&](const nvmf::result<void>& r) {
            if (!check(r, "create_malloc_bdev")) return ns_done.set_value(false);
            tgt.add_namespace(nqn, "Ram0", 1, [&](const nvmf::result<uint32_t>& r) {
                ns_done.set_value(check(r, "add_namespace"));
            });
        });
    });
    if (!ns_done.get_future().get()) return 1;

    // 5. A listener for the subsystem, 6. listen, 7. start.
    nvmf::transport_id trid{"TCP", "IPv4", addr, port};
    if (!check(tgt.add_listener(nqn, trid).get(), "add_listener")) return 1;
    if (!check(tgt.add_listener("nqn.2014-08.org.nvmexpress.discovery", trid).get(),
               "add_listener (discovery)")) {
        return 1;
    }
    if (!check(tgt.listen(trid).get(), "listen")) return 1;
    if (!check(tgt.start_subsystem(nqn).get(), "start_subsystem")) return 1;

    std::printf("embed_target: serving %s on tcp %s:%s\n", nqn.c_str(), addr.c_str(), port.c_str());
    std::printf("  nvme connect -t tcp -a %s -s %s -n %s\n", addr.c_str(), port.c_str(),
                nqn.c_str());
    std::fflush(stdout);

    int sig = 0;
    if (seconds > 0) {
        timespec ts{seconds, 0};
        sig = sigtimedwait(&set, nullptr, &ts);
    } else {
        sigwait(&set, &sig);
    }

    // Undo in reverse order, then shut down.
    (void)tgt.stop_subsystem(nqn).get();
    (void)tgt.remove_listener(nqn, trid).get();
    (void)tgt.remove_namespace(nqn, 1).get();
    (void)tgt.delete_subsystem(nqn).get();
    (void)tgt.delete_bdev("Ram0").get();
    (void)tgt.shutdown().get();
    std::printf("embed_target: stopped\n");
    return 0;
}
