#include "nvmf/listener_security.hpp"

namespace nvmf {

const char* to_string(listener_security s) {
    switch (s) {
    case listener_security::plain:
        return "plain";
    case listener_security::tls:
        return "secure_channel";
    case listener_security::concat:
        return "secure_concat";
    }
    return "?";
}

}  // namespace nvmf
