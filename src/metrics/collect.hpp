// What a scrape of /metrics returns: every series of the target, read from
// the per-reactor counters (summed here, on the scraper's thread) and the
// reactors' own state (read on each reactor with run_sync, as
// nvmf_get_stats does).
#pragma once

#include <string>

namespace nvmf {
class target;
}

namespace nvmf::metrics {

// The exposition text (format 0.0.4). Control path; any thread but a reactor's.
std::string collect(target& tgt);

}  // namespace nvmf::metrics
