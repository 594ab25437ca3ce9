// The embedding API (include/nvmf/api.hpp): the documented flow with futures
// and callbacks, callbacks off the caller's thread, errors, shutdown.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "nvmf/api.hpp"
#include "nvmf/target.hpp"

namespace nvmf::api {
namespace {

std::string free_port() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
        ::close(fd);
        return "0";
    }
    socklen_t len = sizeof(a);
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return std::to_string(ntohs(a.sin_port));
}

bool tcp_connects(const std::string& port) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(std::stoi(port)));
    const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    ::close(fd);
    return ok;
}

constexpr const char* nqn = "nqn.2026-11.io.nvmf-target:api-test";

TEST(rpc_api, flow_with_futures_and_callbacks) {
    auto h = target_handle::create();
    ASSERT_TRUE(h.ok()) << h.err().message;
    target_handle& tgt = **h;

    transport_options o;
    o.max_queue_depth = 32;
    auto t = tgt.create_transport(o).get();
    ASSERT_TRUE(t.ok()) << t.err().message;
    ASSERT_TRUE(tgt.add_transport(std::move(*t)).get().ok());

    subsystem_params sp;
    sp.allow_any_host = true;
    std::promise<std::thread::id> where;
    tgt.create_subsystem(nqn, sp, [&](const result<void>& r) {
        EXPECT_TRUE(r.ok());
        where.set_value(std::this_thread::get_id());
    });
    EXPECT_NE(where.get_future().get(), std::this_thread::get_id());

    ASSERT_TRUE(tgt.create_malloc_bdev("R0", 256, 4096).get().ok());
    auto nsid = tgt.add_namespace(nqn, "R0").get();
    ASSERT_TRUE(nsid.ok()) << nsid.err().message;
    EXPECT_EQ(*nsid, 1u);

    const std::string port = free_port();
    const transport_id trid{"tcp", "ipv4", "127.0.0.1", port};
    ASSERT_TRUE(tgt.add_listener(nqn, trid).get().ok());
    ASSERT_TRUE(tgt.listen(trid).get().ok());
    ASSERT_TRUE(tgt.start_subsystem(nqn).get().ok());
    EXPECT_EQ(tgt.core().find_subsystem(nqn)->state(), subsystem_state::active);
    EXPECT_TRUE(tcp_connects(port));

    auto subs = tgt.rpc("nvmf_get_subsystems", {{"nqn", nqn}}).get();
    ASSERT_TRUE(subs.ok());
    EXPECT_EQ((*subs)[0]["namespaces"][0]["bdev_name"], "R0");

    // Errors come back through the result.
    auto dup = tgt.create_subsystem(nqn, sp).get();
    EXPECT_FALSE(dup.ok());
    auto busy = tgt.delete_bdev("R0").get();
    EXPECT_FALSE(busy.ok());
    auto bad = tgt.add_namespace(nqn, "nope").get();
    EXPECT_FALSE(bad.ok());

    // Masking: a hidden namespace and the hosts that see it.
    const std::string host = "nqn.2014-08.org.nvmexpress:uuid:0a0a0a0a-1111-4222-8333-444444444444";
    ASSERT_TRUE(tgt.create_malloc_bdev("R2", 16, 4096).get().ok());
    auto masked = tgt.add_masked_namespace(nqn, "R2").get();
    ASSERT_TRUE(masked.ok()) << masked.err().message;
    EXPECT_EQ(*masked, 2u);
    ASSERT_TRUE(tgt.add_namespace_host(nqn, 2, host).get().ok());
    auto s = tgt.core().find_subsystem(nqn);
    EXPECT_TRUE(s->ns_snapshot()->visible(2, host));
    EXPECT_FALSE(s->ns_snapshot()->visible(2, "nqn.2014-08.org.nvmexpress:uuid:other"));
    EXPECT_FALSE(tgt.add_namespace_host(nqn, 1, host).get().ok());  // visible to all
    ASSERT_TRUE(tgt.remove_namespace_host(nqn, 2, host).get().ok());
    EXPECT_FALSE(s->ns_snapshot()->visible(2, host));
    ASSERT_TRUE(tgt.remove_namespace(nqn, 2).get().ok());
    ASSERT_TRUE(tgt.delete_bdev("R2").get().ok());

    // Reverse order.
    ASSERT_TRUE(tgt.stop_subsystem(nqn).get().ok());
    ASSERT_TRUE(tgt.remove_listener(nqn, trid).get().ok());
    ASSERT_TRUE(tgt.remove_namespace(nqn, 1).get().ok());
    ASSERT_TRUE(tgt.delete_subsystem(nqn).get().ok());
    ASSERT_TRUE(tgt.delete_bdev("R0").get().ok());
    EXPECT_FALSE(tcp_connects(port));

    ASSERT_TRUE(tgt.shutdown().get().ok());
    auto late = tgt.create_malloc_bdev("R1", 8, 512).get();
    ASSERT_FALSE(late.ok());
    EXPECT_EQ(late.err().code, -ESHUTDOWN);
}

TEST(rpc_api, bad_options) {
    auto h = target_handle::create({"0xzz"});
    EXPECT_FALSE(h.ok());
    auto ok = target_handle::create({});
    ASSERT_TRUE(ok.ok());
    transport_options o;
    o.max_io_size = 3000;
    auto t = (*ok)->create_transport(o).get();
    ASSERT_FALSE(t.ok());
    EXPECT_NE(t.err().message.find("max_io_size"), std::string::npos);
    // Destroyed without shutdown(): the destructor shuts down.
}

}  // namespace
}  // namespace nvmf::api
