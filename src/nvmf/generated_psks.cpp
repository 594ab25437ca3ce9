#include "nvmf/generated_psks.hpp"

#include <algorithm>

namespace nvmf {

void generated_psks::prune(std::vector<entry>& v, clock::time_point now) {
    v.erase(std::remove_if(v.begin(), v.end(), [&](const entry& e) { return e.expires <= now; }),
            v.end());
}

void generated_psks::add(const std::string& hostnqn, keyring::tls_credentials creds,
                         const std::string& replaces) {
    const auto now = clock::now();
    std::lock_guard lk(mtx_);
    auto& v = by_host_[hostnqn];
    prune(v, now);
    v.erase(std::remove_if(v.begin(), v.end(),
                           [&](const entry& e) {
                               return e.creds.identity == creds.identity ||
                                      (!replaces.empty() && e.creds.identity == replaces);
                           }),
            v.end());
    if (v.size() >= max_per_host) v.erase(v.begin());  // oldest first
    v.push_back({std::move(creds), now + lifetime_});
}

std::optional<generated_psks::found> generated_psks::find(const std::string& hostnqn,
                                                          const std::string& identity) {
    const auto now = clock::now();
    std::lock_guard lk(mtx_);
    auto it = by_host_.find(hostnqn);
    if (it == by_host_.end()) return std::nullopt;
    prune(it->second, now);
    for (const auto& e : it->second) {
        if (e.creds.identity == identity) return found{e.creds.cipher, e.creds.tls_psk};
    }
    return std::nullopt;
}

void generated_psks::drop(const std::string& hostnqn) {
    std::lock_guard lk(mtx_);
    by_host_.erase(hostnqn);
}

size_t generated_psks::count(const std::string& hostnqn) {
    const auto now = clock::now();
    std::lock_guard lk(mtx_);
    auto it = by_host_.find(hostnqn);
    if (it == by_host_.end()) return 0;
    prune(it->second, now);
    return it->second.size();
}

}  // namespace nvmf
