// Loopback TCP stream ceiling: one sender and one receiver, each pinned to a
// core, moving large writes (4 MiB by default, so that per-syscall cost does
// not hide what the kernel can move; 128 KiB chunks measure ~35% lower here)
// for a fixed time. The NVMe/TCP figures of
// bench/run are read against this: no target can move more bytes over
// loopback than a bare stream on the same two cores.
// The receiver polls with non-blocking reads, as nvmf-perf and a polling
// target do: a receiver that sleeps makes the sender pay a wake-up (an
// inter-processor interrupt, a VM exit) per write, which understates the
// ceiling by a third or more.
// With a source span larger than the chunk, each write takes the next chunk
// of that span, so the sender copies from memory rather than from its cache,
// as a target reading a RAM disk larger than the cache does.
//   tcp-stream [seconds] [receiver_cpu] [sender_cpu] [chunk_bytes] [poll: 1|0] [span_bytes]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {
void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}
}  // namespace

int main(int argc, char** argv) {
    const int seconds = argc > 1 ? std::atoi(argv[1]) : 5;
    const int rx_cpu = argc > 2 ? std::atoi(argv[2]) : 0;
    const int tx_cpu = argc > 3 ? std::atoi(argv[3]) : 1;
    const size_t chunk = argc > 4 ? std::strtoul(argv[4], nullptr, 0) : size_t{4} << 20;
    const bool poll = argc > 5 ? std::atoi(argv[5]) != 0 : true;
    const size_t span = std::max(chunk, argc > 6 ? std::strtoul(argv[6], nullptr, 0) : chunk);
    const int ls = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (bind(ls, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || listen(ls, 1) != 0) {
        std::perror("tcp-stream: listen");
        return 1;
    }
    socklen_t len = sizeof(a);
    getsockname(ls, reinterpret_cast<sockaddr*>(&a), &len);
    std::atomic<uint64_t> received{0};
    std::thread rx([&] {
        pin(rx_cpu);
        const int c = accept(ls, nullptr, nullptr);
        std::vector<char> buf(chunk);
        for (;;) {
            const ssize_t n = recv(c, buf.data(), buf.size(), poll ? MSG_DONTWAIT : 0);
            if (n < 0 && errno == EAGAIN) continue;
            if (n <= 0) break;
            received.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
        }
        close(c);
    });
    pin(tx_cpu);
    const int s = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
        std::perror("tcp-stream: connect");
        return 1;
    }
    std::vector<char> buf(span, 'x');
    size_t pos = 0;
    const auto start = std::chrono::steady_clock::now();
    const auto end = start + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < end) {
        if (write(s, buf.data() + pos, chunk) <= 0) break;
        pos = pos + 2 * chunk <= span ? pos + chunk : 0;
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    shutdown(s, SHUT_WR);
    rx.join();
    close(s);
    close(ls);
    std::printf("{\"seconds\": %.3f, \"bytes\": %lu, \"mib_s\": %.1f}\n", secs,
                static_cast<unsigned long>(received.load()), received.load() / secs / 1048576.0);
    return 0;
}
