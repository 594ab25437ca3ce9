// The embedding example (examples/embed_target.cpp) walks the public API's
// flow; this test runs it and drives the target it builds with our initiator.
#include <sys/wait.h>
#include <unistd.h>

#include <random>

#include "daemon_fixture.hpp"
#include "host/controller.hpp"
#include "host/discovery.hpp"

namespace nvmf::test {
namespace {

TEST(example_test, EmbeddedTargetServesIo) {
    const std::string bin = std::string(NVMF_BUILD_DIR) + "/embed_target";
    ASSERT_EQ(::access(bin.c_str(), X_OK), 0) << bin << " not built";
    const uint16_t port = pick_port();
    ASSERT_NE(port, 0);
    const std::string nqn = "nqn.2026-11.io.nvmf-target:example-test";
    int out[2];
    ASSERT_EQ(::pipe(out), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::dup2(out[1], 1);
        ::close(out[0]);
        ::close(out[1]);
        const std::string p = std::to_string(port);
        ::execl(bin.c_str(), bin.c_str(), "--port", p.c_str(), "--nqn", nqn.c_str(), "--seconds",
                "60", static_cast<char*>(nullptr));
        ::_exit(127);
    }
    ::close(out[1]);
    // The example walks the seed's flow: it listens, then starts the
    // subsystem, then says it is serving. Its port is open before the
    // subsystem is active, so wait for the line, not for the port.
    std::string said;
    char buf[256];
    ssize_t n;
    while (said.find("serving") == std::string::npos &&
           (n = ::read(out[0], buf, sizeof(buf))) > 0) {
        said.append(buf, static_cast<size_t>(n));
    }
    // The read end stays open until the example exits: it prints on the way out.
    const int out_fd = out[0];
    ASSERT_NE(said.find("serving " + nqn), std::string::npos) << "the example said: " << said;
    ASSERT_TRUE(port_accepts(port)) << "the example does not listen on " << port;

    host::controller_options o;
    o.trsvcid = std::to_string(port);
    o.subnqn = nqn;
    o.num_io_queues = 1;
    o.io_queue_size = 64;  // the example sets max_queue_depth 64
    {
        auto c = host::controller::create(o);
        ASSERT_TRUE(c) << c.err().message;
        auto& ctrl = **c;
        EXPECT_EQ(host::field_string(ctrl.data().subnqn, 256), nqn);
        auto ns = ctrl.identify_ns(1);
        ASSERT_TRUE(ns) << ns.err().message;
        const uint32_t bs = 1u << ns->lbaf[ns->flbas & 0xf].lbads;
        std::vector<uint8_t> out(8 * bs), in(8 * bs);
        std::mt19937 rng(7);
        for (auto& b : out) b = static_cast<uint8_t>(rng());
        auto w = ctrl.write(1, 16, 8, out);
        ASSERT_TRUE(w && w->ok());
        auto r = ctrl.read(1, 16, 8, in);
        ASSERT_TRUE(r && r->ok());
        EXPECT_EQ(in, out);
        (void)ctrl.shutdown();
    }
    ::kill(pid, SIGTERM);
    int st = 0;
    ASSERT_EQ(::waitpid(pid, &st, 0), pid);
    ::close(out_fd);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "example exit status " << st;
}

}  // namespace
}  // namespace nvmf::test
