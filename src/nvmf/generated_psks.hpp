// The TLS PSKs secure channel concatenation generated for the hosts of one
// subsystem (DH-HMAC-CHAP with SC_C NEWTLSPSK/REPLACETLSPSK on an admin
// queue), kept for the TLS handshakes that follow: the host closes the plain
// admin queue and opens its TLS queues with the generated PSK, by its NVMe1G
// identity.
//
// A PSK lives one hour (TP 8018's suggestion, the Linux keyring timeout the
// kernel sets on it), until REPLACETLSPSK replaces it, or until the host is
// removed or its keys change. Key material is wiped when dropped (the
// keyring::secret_bytes it lives in) and never logged. Thread-safe: the RPC
// thread drops, reactors add and look up (TLS handshakes, authentication:
// control path only).
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "keyring/tls_psk.hpp"

namespace nvmf {

class generated_psks {
public:
    using clock = std::chrono::steady_clock;
    static constexpr std::chrono::seconds default_lifetime{3600};
    // At most this many per host: every admin connection a host opens with
    // NEWTLSPSK makes one, so an authenticated host cannot grow the table
    // without end; the oldest goes first.
    static constexpr size_t max_per_host = 8;

    explicit generated_psks(std::chrono::milliseconds lifetime = default_lifetime)
        : lifetime_(lifetime) {}

    // Keeps creds (identity, cipher, TLS PSK) for hostnqn; drops the PSK with
    // identity `replaces` first when given (REPLACETLSPSK on a channel opened
    // with it).
    void add(const std::string& hostnqn, keyring::tls_credentials creds,
             const std::string& replaces = {});
    // The TLS PSK (and its cipher suite) for this identity, if hostnqn has it
    // and it has not expired.
    struct found {
        keyring::tls_cipher cipher;
        keyring::secret_bytes tls_psk;
    };
    std::optional<found> find(const std::string& hostnqn, const std::string& identity);
    // Forgets every PSK of a host (removed, keys rotated).
    void drop(const std::string& hostnqn);
    size_t count(const std::string& hostnqn);

private:
    struct entry {
        keyring::tls_credentials creds;
        clock::time_point expires;
    };
    void prune(std::vector<entry>& v, clock::time_point now);

    std::chrono::milliseconds lifetime_;
    std::mutex mtx_;
    std::map<std::string, std::vector<entry>> by_host_;
};

}  // namespace nvmf
