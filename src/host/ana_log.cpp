#include "host/ana_log.hpp"

#include <cstring>

#include "nvme/spec/log.hpp"
#include "nvme/spec/nvme.hpp"

namespace nvmf::host {

result<ana_log> parse_ana_log(std::span<const uint8_t> image) {
    spec::ana_log_header h;
    if (image.size() < sizeof(h)) return make_error(-EPROTO, "ANA log shorter than its header");
    std::memcpy(&h, image.data(), sizeof(h));
    ana_log out;
    out.chgcnt = h.chgcnt;
    size_t pos = sizeof(h);
    for (unsigned i = 0; i < h.ngrps; ++i) {
        spec::ana_group_descriptor d;
        if (image.size() - pos < sizeof(d)) {
            return make_error(-EPROTO, "ANA log: descriptor " + std::to_string(i) +
                                           " runs past the data (NGRPS " + std::to_string(h.ngrps) +
                                           ")");
        }
        std::memcpy(&d, image.data() + pos, sizeof(d));
        pos += sizeof(d);
        if ((image.size() - pos) / sizeof(uint32_t) < d.nnsids) {
            return make_error(-EPROTO, "ANA log: group " + std::to_string(d.anagrpid) +
                                           " lists more NSIDs than the data holds");
        }
        if (d.anagrpid == 0 || out.groups.count(d.anagrpid)) {
            return make_error(-EPROTO,
                              "ANA log: bad or repeated ANAGRPID " + std::to_string(d.anagrpid));
        }
        ana_group_state g;
        g.state = static_cast<uint8_t>(d.state & 0xf);
        g.chgcnt = d.chgcnt;
        g.nsids.resize(d.nnsids);
        if (d.nnsids) std::memcpy(g.nsids.data(), image.data() + pos, d.nnsids * sizeof(uint32_t));
        pos += d.nnsids * sizeof(uint32_t);
        out.groups.emplace(d.anagrpid, std::move(g));
    }
    out.bytes = pos;
    return out;
}

result<ana_log> get_ana_log(controller& c, bool rgo, bool rae) {
    const auto& id = c.data();
    // As Linux sizes it: every group the controller may report, every NSID it may attach.
    const size_t size = sizeof(spec::ana_log_header) +
                        size_t{id.nanagrpid} * sizeof(spec::ana_group_descriptor) +
                        (rgo ? 0 : size_t{id.mnan ? id.mnan : id.nn} * sizeof(uint32_t));
    std::vector<uint8_t> buf((size + 3) & ~size_t{3});
    auto r = c.get_log_page(spec::lid::ana, 0, buf, 0, rgo ? spec::ana_lsp::rgo : 0, rae);
    if (!r) return r.err();
    if (!r->ok()) return status_error("Get Log Page (ANA)", *r);
    return parse_ana_log(buf);
}

const char* ana_state_name(uint8_t state) {
    switch (state) {
    case 0x1:
        return "optimized";
    case 0x2:
        return "non-optimized";
    case 0x3:
        return "inaccessible";
    case 0x4:
        return "persistent-loss";
    case 0xf:
        return "change";
    default:
        return "invalid";
    }
}

}  // namespace nvmf::host
