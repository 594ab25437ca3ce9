// JSON-RPC 2.0 framing: the stream splitter, request validation, and the
// Unix socket server (ordering, several clients, errors that close).
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "nvmf/target.hpp"
#include "reactor/reactor.hpp"
#include "rpc/jsonrpc.hpp"
#include "rpc/params.hpp"
#include "rpc/server.hpp"

namespace nvmf::rpc {
namespace {

using status = stream_splitter::status;

TEST(rpc_splitter, back_to_back_and_split_values) {
    stream_splitter s;
    std::string v, why;
    s.append(R"({"a":"}{\"x"} [1,{"b":[2]}]  {"c")");
    ASSERT_EQ(s.next(&v, &why), status::value);
    EXPECT_EQ(v, R"({"a":"}{\"x"})");
    ASSERT_EQ(s.next(&v, &why), status::value);
    EXPECT_EQ(v, R"([1,{"b":[2]}])");
    EXPECT_EQ(s.next(&v, &why), status::need_more);
    s.append(":3");
    EXPECT_EQ(s.next(&v, &why), status::need_more);
    s.append("}\n");
    ASSERT_EQ(s.next(&v, &why), status::value);
    EXPECT_EQ(v, R"({"c":3})");
    EXPECT_EQ(s.next(&v, &why), status::need_more);
}

TEST(rpc_splitter, garbage_and_oversize) {
    stream_splitter s;
    std::string v, why;
    s.append("  hello");
    EXPECT_EQ(s.next(&v, &why), status::error);
    EXPECT_NE(why.find("Parse error"), std::string::npos);

    stream_splitter big;
    big.append("{\"x\":\"" + std::string(max_request_size, 'a'));
    EXPECT_EQ(big.next(&v, &why), status::error);
    EXPECT_NE(why.find("larger than"), std::string::npos);

    stream_splitter fits;
    const std::string ok = "{\"x\":\"" + std::string(max_request_size - 100, 'a') + "\"}";
    fits.append(ok);
    EXPECT_EQ(fits.next(&v, &why), status::value);
}

class rpc_framing_test : public ::testing::Test {
protected:
    reactor_group reactors_{std::vector<int>{}};
    target tgt_{reactors_};
    context ctx_{tgt_};

    json text(const std::string& t) { return handle_text(ctx_, t); }
    static int code(const json& r) { return r["error"]["code"].get<int>(); }
};

TEST_F(rpc_framing_test, request_errors) {
    EXPECT_EQ(code(text("{\"jsonrpc\":\"2.0\",")), err_parse);
    EXPECT_EQ(code(text("{\"jsonrpc\":\"2.0\" \"id\":1}")), err_parse);
    EXPECT_EQ(code(text("5")), err_invalid_request);
    EXPECT_EQ(code(text(R"({"id":1,"method":"spdk_get_version"})")), err_invalid_request);
    EXPECT_EQ(code(text(R"({"jsonrpc":"1.0","id":1,"method":"spdk_get_version"})")),
              err_invalid_request);
    EXPECT_EQ(code(text(R"({"jsonrpc":"2.0","id":1})")), err_invalid_request);
    EXPECT_EQ(code(text(R"({"jsonrpc":"2.0","id":1,"method":7})")), err_invalid_request);
    EXPECT_EQ(code(text(R"({"jsonrpc":"2.0","id":{},"method":"spdk_get_version"})")),
              err_invalid_request);
    EXPECT_EQ(code(text(R"({"jsonrpc":"2.0","id":1,"method":"spdk_get_version","params":3})")),
              err_invalid_request);
    EXPECT_EQ(code(text(R"({"jsonrpc":"2.0","id":1,"method":"spdk_get_version","extra":3})")),
              err_invalid_request);
    EXPECT_EQ(code(text(R"([])")), err_invalid_request);
    json r = text(R"({"jsonrpc":"2.0","id":"abc","method":"no_such_method"})");
    EXPECT_EQ(code(r), err_method_not_found);
    EXPECT_EQ(r["id"], "abc");
    EXPECT_EQ(code(text(R"({"jsonrpc":"2.0","id":1,"method":"bdev_get_bdevs","params":[1]})")),
              err_invalid_params);
    EXPECT_EQ(code(text(R"({"jsonrpc":"2.0","id":1,"method":"bdev_get_bdevs","params":{"x":1}})")),
              err_invalid_params);
}

TEST_F(rpc_framing_test, responses_notifications_batches) {
    json r = text(R"({"jsonrpc":"2.0","id":7,"method":"bdev_get_bdevs"})");
    EXPECT_EQ(r["jsonrpc"], "2.0");
    EXPECT_EQ(r["id"], 7);
    EXPECT_TRUE(r["result"].is_array());
    EXPECT_FALSE(r.contains("error"));
    // A notification runs but gets no response.
    EXPECT_TRUE(text(R"({"jsonrpc":"2.0","method":"bdev_malloc_create",
                         "params":{"name":"N","num_blocks":8,"block_size":512}})")
                    .is_null());
    EXPECT_TRUE(tgt_.bdevs.find("N"));
    json b = text(R"([{"jsonrpc":"2.0","id":1,"method":"spdk_get_version"},
                      {"jsonrpc":"2.0","method":"framework_start_init"},
                      {"jsonrpc":"2.0","id":2,"method":"nope"}])");
    ASSERT_TRUE(b.is_array());
    ASSERT_EQ(b.size(), 2u);
    EXPECT_EQ(b[0]["id"], 1);
    EXPECT_TRUE(b[0].contains("result"));
    EXPECT_EQ(b[1]["id"], 2);
    EXPECT_EQ(code(b[1]), err_method_not_found);
}

// ------------------------------------------------------------ the server

std::string temp_socket_path(const char* tag) {
    return "/tmp/nvmf-rpc-test-" + std::to_string(getpid()) + "-" + tag + ".sock";
}

int connect_to(const std::string& path) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof(a.sun_path) - 1);
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
        ::close(fd);
        return -1;
    }
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

void send_all(int fd, const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
        const ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
        if (n <= 0) return;  // the server may close early (oversize)
        off += static_cast<size_t>(n);
    }
}

// Reads n responses; stops early at EOF.
std::vector<json> read_responses(int fd, size_t n, bool* eof = nullptr) {
    stream_splitter in;
    std::vector<json> out;
    std::string v, why;
    char buf[4096];
    while (out.size() < n) {
        if (in.next(&v, &why) == status::value) {
            out.push_back(json::parse(v));
            continue;
        }
        const ssize_t r = ::recv(fd, buf, sizeof(buf), 0);
        if (r <= 0) {
            if (eof) *eof = true;
            break;
        }
        in.append(std::string_view(buf, static_cast<size_t>(r)));
    }
    return out;
}

bool closed_by_peer(int fd) {
    char c;
    return ::recv(fd, &c, 1, 0) == 0;
}

std::string req(int id, const char* method, const json& params = nullptr) {
    json r{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
    if (!params.is_null()) r["params"] = params;
    return r.dump();
}

TEST_F(rpc_framing_test, server_serves_in_order_and_several_clients) {
    const std::string path = temp_socket_path("order");
    server srv(tgt_, path);
    ASSERT_TRUE(srv.start().ok());
    struct stat st;
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);

    const int a = connect_to(path);
    const int b = connect_to(path);
    ASSERT_GE(a, 0);
    ASSERT_GE(b, 0);
    // Three requests in one write, the last one split in two writes.
    const std::string third = req(3, "bdev_get_bdevs", {{"name", "A0"}});
    send_all(
        a,
        req(1, "bdev_malloc_create", {{"name", "A0"}, {"num_blocks", 8}, {"block_size", 512}}) +
            "\n" +
            req(2, "bdev_malloc_create", {{"name", "A0"}, {"num_blocks", 8}, {"block_size", 512}}) +
            third.substr(0, 10));
    send_all(b, req(9, "spdk_get_version"));
    send_all(a, third.substr(10));
    auto ra = read_responses(a, 3);
    ASSERT_EQ(ra.size(), 3u);
    EXPECT_EQ(ra[0]["id"], 1);
    EXPECT_EQ(ra[0]["result"], "A0");
    EXPECT_EQ(ra[1]["id"], 2);
    EXPECT_EQ(ra[1]["error"]["code"], -EEXIST);
    EXPECT_EQ(ra[2]["id"], 3);
    EXPECT_EQ(ra[2]["result"][0]["name"], "A0");
    auto rb = read_responses(b, 1);
    ASSERT_EQ(rb.size(), 1u);
    EXPECT_EQ(rb[0]["id"], 9);
    ::close(a);
    ::close(b);
    srv.stop();
    EXPECT_NE(access(path.c_str(), F_OK), 0);  // removed on stop
}

TEST_F(rpc_framing_test, server_malformed_json_and_oversize_close_the_connection) {
    const std::string path = temp_socket_path("errors");
    server srv(tgt_, path);
    ASSERT_TRUE(srv.start().ok());

    const int a = connect_to(path);
    send_all(a,
             req(1, "spdk_get_version") + "{\"jsonrpc\":\"2.0\",,}" + req(2, "spdk_get_version"));
    bool eof = false;
    auto r = read_responses(a, 3, &eof);
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0]["id"], 1);
    EXPECT_EQ(r[1]["error"]["code"], err_parse);
    EXPECT_TRUE(eof);
    ::close(a);

    const int b = connect_to(path);
    send_all(b, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"params\":{\"p\":\"" +
                    std::string(max_request_size + 10, 'z'));
    auto rb = read_responses(b, 1);
    ASSERT_EQ(rb.size(), 1u);
    EXPECT_EQ(rb[0]["error"]["code"], err_invalid_request);
    EXPECT_TRUE(closed_by_peer(b));
    ::close(b);

    // The server still serves others.
    const int c = connect_to(path);
    send_all(c, req(5, "rpc_get_methods"));
    auto rc = read_responses(c, 1);
    ASSERT_EQ(rc.size(), 1u);
    EXPECT_EQ(rc[0]["id"], 5);
    ::close(c);
}

TEST_F(rpc_framing_test, server_socket_file_rules) {
    const std::string path = temp_socket_path("file");
    {
        // A stale socket (nobody listening) is replaced.
        const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::strncpy(a.sun_path, path.c_str(), sizeof(a.sun_path) - 1);
        ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
        ::close(fd);
    }
    server first(tgt_, path);
    ASSERT_TRUE(first.start().ok());
    // A live one is not.
    server second(tgt_, path);
    auto r = second.start();
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.err().message.find("in use"), std::string::npos) << r.err().message;
    first.stop();

    // Nor is a regular file.
    { std::ofstream(path) << "precious"; }
    server third(tgt_, path);
    auto t = third.start();
    ASSERT_FALSE(t.ok());
    EXPECT_NE(t.err().message.find("not a socket"), std::string::npos);
    std::ifstream in(path);
    std::string content;
    in >> content;
    EXPECT_EQ(content, "precious");
    ::unlink(path.c_str());

    server too_long(tgt_, "/tmp/" + std::string(200, 'x'));
    EXPECT_FALSE(too_long.start().ok());
}

}  // namespace
}  // namespace nvmf::rpc
