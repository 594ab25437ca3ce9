// Namespace masking (SPDK's no_auto_visible): which namespaces of a table a
// host's controllers see.
#include "nvmf/ns.hpp"

namespace nvmf {

std::shared_ptr<const ns_table> ns_table::view_for(const std::string& hostnqn) const {
    auto v = std::make_shared<ns_table>(*this);
    for (uint32_t nsid = 1; nsid <= max_nsid(); ++nsid) {
        if (!visible(nsid, hostnqn)) {
            v->slots[nsid - 1].reset();
            v->resv[nsid - 1].reset();
        }
        v->visible_to[nsid - 1].reset();
    }
    v->masked = false;
    return v;
}

void ns_table::update_masked() {
    masked = false;
    for (const auto& h : visible_to) masked = masked || h != nullptr;
}

bool ns_view_changed(const ns_table& before, const ns_table& after, uint32_t nsid,
                     const std::string& hostnqn) {
    const bool was = before.visible(nsid, hostnqn);
    const bool is = after.visible(nsid, hostnqn);
    if (was != is) return true;
    return was && before.find(nsid) != after.find(nsid);
}

}  // namespace nvmf
