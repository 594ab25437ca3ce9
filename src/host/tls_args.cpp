#include "host/tls_args.hpp"

#include <fstream>
#include <sstream>

#include "host/controller.hpp"
#include "keyring/tls_psk.hpp"

namespace nvmf::host {

result<std::string> read_psk_argument(const std::string& arg) {
    std::string text = arg;
    if (arg.rfind("NVMeTLSkey-1:", 0) != 0) {
        std::ifstream f(arg);
        if (!f) return make_error(-ENOENT, "--psk: no such key file: " + arg);
        std::stringstream ss;
        ss << f.rdbuf();
        text = ss.str();
    }
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
        text.pop_back();
    }
    if (auto k = keyring::parse_interchange(text); !k) {
        return make_error(k.err().code, "--psk: " + k.err().message);
    }
    return text;
}

std::string tls_summary(controller& c) {
    if (!c.tls()) return {};
    const auto& sock = c.admin().sock();
    std::string s = std::string("TLS 1.3 ") + keyring::cipher_name(c.tls()->creds.cipher) +
                    ", identity '" + c.tls()->creds.identity + "', record layer ";
    if (sock.tls_kernel()) {
        s += "kTLS";
    } else {
        s += "OpenSSL";
        if (!sock.tls_note().empty()) s += " (" + sock.tls_note() + ")";
    }
    return s;
}

}  // namespace nvmf::host
