// SPDK's nvmf_create_transport parameters: parsing, limits and the
// nvmf_get_transports shape. docs/transport-options.md lists every option
// and whether this target honours it.
#include <strings.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "nvmf/controller.hpp"
#include "transport/transport.hpp"

namespace nvmf {

namespace {

using json = nlohmann::json;

// The limits, with where they come from.
constexpr uint32_t min_queue_depth = 2;            // SPDK TCP minimum
constexpr uint32_t max_queue_depth_limit = 65535;  // MQES is 16 bits (0's based)
constexpr uint32_t min_aq_depth = 32;              // NVMe-oF: admin queue of >= 32 entries
constexpr uint32_t max_aq_depth_limit = 4096;      // SPDK TCP maximum
constexpr uint32_t max_io_qpairs_limit = 65534;    // 16-bit queue IDs, qid 0 is the admin queue
constexpr uint32_t min_io_size = 4096;             // MDTS counts in 4 KiB pages (CAP.MPSMIN)
constexpr uint32_t max_io_size_limit = 1u << 20;   // pool buffers are max_io_size bytes each
constexpr uint32_t max_icd_limit = 131072;
constexpr uint32_t min_io_unit_size = 512;
constexpr uint32_t max_sgl_entries = 16;  // SPDK: max_io_size / io_unit_size must fit 16 SGEs
constexpr uint32_t max_shared_buffers = 1u << 20;
constexpr uint32_t max_sock_priority = 6;  // above 6 needs CAP_NET_ADMIN (socket(7))

constexpr uint32_t max_srq_depth_limit = 1u << 20;  // clamped to the device's max_srq_wr
constexpr uint32_t max_backlog = 65535;             // rdma_listen's backlog is an int; sane cap
constexpr uint32_t max_cqe_limit = 1u << 22;        // clamped to the device's max_cqe

constexpr std::string_view rdma_only[] = {"max_srq_depth", "no_srq", "acceptor_backlog",
                                          "no_wr_batching", "num_cqe"};
// SPDK's TCP transport_specific options, and c2h_success, which only NVMe/TCP has.
constexpr std::string_view tcp_only[] = {"c2h_success", "sock_priority", "control_msg_num"};
// VFIO-USER's options: no transport here has them.
constexpr std::string_view vfio_user_only[] = {"disable_mappable_bar0", "disable_adaptive_irq",
                                               "disable_shadow_doorbells"};

// rpc.py sends these with every nvmf_create_transport, whatever the type
// (apply_defaults and its store_true flags): at these values they ask for
// nothing, so another transport's name is accepted there.
bool rpc_py_default(std::string_view key, const nlohmann::json& v) {
    if (key == "c2h_success") return v == true;
    if (key == "no_srq" || key == "no_wr_batching") return v == false;
    for (auto k : vfio_user_only) {
        if (key == k) return v == false;
    }
    return false;
}

bool is_rdma(const std::string& trtype) { return strcasecmp(trtype.c_str(), "RDMA") == 0; }

error invalid(std::string msg) { return make_error(-EINVAL, std::move(msg)); }

bool is_pow2(uint32_t v) { return v != 0 && (v & (v - 1)) == 0; }

result<uint32_t> get_u32(const json& v, const std::string& name) {
    if (v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0)) {
        const auto x = v.get<uint64_t>();
        if (x > std::numeric_limits<uint32_t>::max()) {
            return invalid("'" + name + "' is out of range (at most 4294967295): " + v.dump());
        }
        return static_cast<uint32_t>(x);
    }
    if (v.is_number_integer()) return invalid("'" + name + "' must not be negative: " + v.dump());
    return invalid("'" + name + "' must be an unsigned integer, not " + v.dump());
}

result<bool> get_bool(const json& v, const std::string& name) {
    if (v.is_boolean()) return v.get<bool>();
    return invalid("'" + name + "' must be a boolean (true or false), not " + v.dump());
}

result<void> range(const char* name, uint32_t v, uint32_t lo, uint32_t hi, const char* why = "") {
    if (v < lo || v > hi) {
        std::string m = std::string("'") + name + "' must be " + std::to_string(lo) + ".." +
                        std::to_string(hi) + ", not " + std::to_string(v);
        if (*why) m += std::string(" (") + why + ")";
        return invalid(std::move(m));
    }
    return {};
}

}  // namespace

transport_options transport_options::defaults_for(const std::string& trtype) {
    transport_options o;
    if (is_rdma(trtype)) {
        // SPDK's RDMA defaults: 8 KiB I/O units (max_io_size / 16 SGL entries)
        // and 4095 of them, shared by the poll groups.
        o.trtype = "RDMA";
        o.io_unit_size = 8192;
        o.num_shared_buffers = 4095;
    }
    return o;
}

nlohmann::json transport_options::to_json() const {
    // The options both transports have, then each one's own (JSON objects
    // print sorted by key, so the order here does not show).
    json j{{"trtype", trtype},
           {"max_queue_depth", max_queue_depth},
           {"max_io_qpairs_per_ctrlr", max_io_qpairs_per_ctrlr},
           {"in_capsule_data_size", in_capsule_data_size},
           {"max_io_size", max_io_size},
           {"io_unit_size", io_unit_size},
           {"max_aq_depth", max_aq_depth},
           {"num_shared_buffers", num_shared_buffers},
           {"buf_cache_size", buf_cache_size},
           {"iobuf_small_cache_size", iobuf_small_cache_size},
           {"iobuf_large_cache_size", iobuf_large_cache_size},
           {"dif_insert_or_strip", dif_insert_or_strip},
           {"abort_timeout_sec", abort_timeout_sec},
           {"zcopy", zcopy},
           {"ack_timeout", ack_timeout},
           {"data_wr_pool_size", data_wr_pool_size},
           {"acceptor_poll_rate", acceptor_poll_rate},
           {"disable_command_passthru", disable_command_passthru},
           {"kas", kas},
           {"min_kato", min_kato}};
    if (is_rdma(trtype)) {
        j["max_srq_depth"] = max_srq_depth;
        j["no_srq"] = no_srq;
        j["num_cqe"] = num_cqe;
        j["acceptor_backlog"] = acceptor_backlog;
        j["no_wr_batching"] = no_wr_batching;
    } else {
        j["c2h_success"] = c2h_success;
        j["sock_priority"] = sock_priority;
        j["control_msg_num"] = control_msg_num;
    }
    return j;
}

result<transport_options> transport_options::from_json(const nlohmann::json& params) {
    if (!params.is_object()) return invalid("transport parameters must be a JSON object");
    transport_options o;

    auto tr = params.find("trtype");
    if (tr == params.end()) return invalid("missing required parameter 'trtype'");
    if (!tr->is_string()) return invalid("'trtype' must be a string, not " + tr->dump());
    const std::string name = tr->get<std::string>();
    if (strcasecmp(name.c_str(), "TCP") == 0) {
        o = defaults_for("TCP");
    } else if (is_rdma(name)) {
        o = defaults_for("RDMA");
    } else if (strcasecmp(name.c_str(), "FC") == 0) {
        return make_error(-EPROTONOSUPPORT,
                          "transport type '" + name + "' is not supported (TCP and RDMA are)");
    } else {
        return invalid("unknown transport type '" + name + "' (expected TCP or RDMA)");
    }
    const bool rdma = is_rdma(o.trtype);

    struct u32_field {
        const char* name;
        uint32_t* out;
    };
    const u32_field u32s[] = {{"max_queue_depth", &o.max_queue_depth},
                              {"max_io_qpairs_per_ctrlr", &o.max_io_qpairs_per_ctrlr},
                              {"in_capsule_data_size", &o.in_capsule_data_size},
                              {"max_io_size", &o.max_io_size},
                              {"io_unit_size", &o.io_unit_size},
                              {"max_aq_depth", &o.max_aq_depth},
                              {"num_shared_buffers", &o.num_shared_buffers},
                              {"buf_cache_size", &o.buf_cache_size},
                              {"iobuf_small_cache_size", &o.iobuf_small_cache_size},
                              {"iobuf_large_cache_size", &o.iobuf_large_cache_size},
                              {"kas", &o.kas},
                              {"min_kato", &o.min_kato},
                              {"sock_priority", &o.sock_priority},
                              {"abort_timeout_sec", &o.abort_timeout_sec},
                              {"control_msg_num", &o.control_msg_num},
                              {"ack_timeout", &o.ack_timeout},
                              {"data_wr_pool_size", &o.data_wr_pool_size},
                              {"acceptor_poll_rate", &o.acceptor_poll_rate},
                              {"max_srq_depth", &o.max_srq_depth},
                              {"acceptor_backlog", &o.acceptor_backlog},
                              {"num_cqe", &o.num_cqe}};
    struct bool_field {
        const char* name;
        bool* out;
    };
    const bool_field bools[] = {{"dif_insert_or_strip", &o.dif_insert_or_strip},
                                {"c2h_success", &o.c2h_success},
                                {"zcopy", &o.zcopy},
                                {"disable_command_passthru", &o.disable_command_passthru},
                                {"no_srq", &o.no_srq},
                                {"no_wr_batching", &o.no_wr_batching}};

    bool have_io_qpairs = false;
    std::optional<uint32_t> legacy_qpairs;
    for (const auto& [key, value] : params.items()) {
        if (key == "trtype") continue;
        // Another transport's names are an error, not silently kept, except
        // at the values rpc.py always sends.
        const std::span<const std::string_view> foreign =
            rdma ? std::span<const std::string_view>(tcp_only)
                 : std::span<const std::string_view>(rdma_only);
        if (rpc_py_default(key, value)) {
            bool other = false;
            for (auto r : foreign) other = other || key == r;
            for (auto r : vfio_user_only) other = other || key == r;
            if (other) continue;
        }
        for (auto r : foreign) {
            if (key == r) {
                return invalid("'" + key + "' is " + (rdma ? "a TCP" : "an RDMA") +
                               " transport option; it is not valid for " + o.trtype);
            }
        }
        for (auto r : vfio_user_only) {
            if (key == r) {
                return invalid("'" + key +
                               "' is a VFIO-USER transport option; it is not valid for " +
                               o.trtype + " (only false is accepted)");
            }
        }
        if (key == "masked_oncs" || key == "masked_fuses") {
            // SPDK's lists of optional commands to hide from Identify: only
            // an empty list (hide nothing) is accepted.
            if (!value.is_array()) {
                return invalid("'" + key + "' must be an array of feature names, not " +
                               value.dump());
            }
            if (!value.empty()) {
                return invalid("'" + key +
                               "': masking Identify Controller ONCS/FUSES features is not "
                               "supported (only an empty list)");
            }
            continue;
        }
        bool done = false;
        for (const auto& f : u32s) {
            if (key != f.name) continue;
            auto v = get_u32(value, key);
            if (!v) return v.err();
            *f.out = *v;
            if (key == "max_io_qpairs_per_ctrlr") have_io_qpairs = true;
            done = true;
            break;
        }
        for (const auto& f : bools) {
            if (done || key != f.name) continue;
            auto v = get_bool(value, key);
            if (!v) return v.err();
            *f.out = *v;
            done = true;
        }
        if (done) continue;
        if (key == "max_qpairs_per_ctrlr") {
            // SPDK's older name: it counts the admin queue too.
            auto v = get_u32(value, key);
            if (!v) return v.err();
            if (auto r = range("max_qpairs_per_ctrlr", *v, 2, max_io_qpairs_limit + 1,
                               "it counts the admin queue");
                !r) {
                return r.err();
            }
            legacy_qpairs = *v;
            continue;
        }
        return invalid("unknown transport parameter '" + key + "'");
    }
    if (legacy_qpairs) {
        if (have_io_qpairs && o.max_io_qpairs_per_ctrlr != *legacy_qpairs - 1) {
            return invalid("max_qpairs_per_ctrlr (" + std::to_string(*legacy_qpairs) +
                           ") contradicts max_io_qpairs_per_ctrlr (" +
                           std::to_string(o.max_io_qpairs_per_ctrlr) +
                           "); give only max_io_qpairs_per_ctrlr");
        }
        o.max_io_qpairs_per_ctrlr = *legacy_qpairs - 1;
    }
    // As SPDK does: an I/O unit larger than the largest I/O is the largest I/O.
    if (o.io_unit_size > o.max_io_size) o.io_unit_size = o.max_io_size;
    if (auto v = o.validate(); !v) return v.err();
    return o;
}

controller_limits limits_from_options(const transport_options& o) {
    controller_limits l;
    l.max_io_size = o.max_io_size;
    l.in_capsule_data_size = o.in_capsule_data_size;
    l.max_queue_depth = static_cast<uint16_t>(std::min<uint32_t>(o.max_queue_depth, 65535));
    l.max_aq_depth = static_cast<uint16_t>(std::min<uint32_t>(o.max_aq_depth, 65535));
    l.max_io_qpairs = static_cast<uint16_t>(std::min<uint32_t>(o.max_io_qpairs_per_ctrlr, 65534));
    return l;
}

result<void> transport_options::validate() const {
    const bool rdma = is_rdma(trtype);
    // LOOP (in-process, src/transport/loop) takes TCP's limits; it is made
    // through the C++ API only, as no host outside the process can reach it.
    if (!rdma && strcasecmp(trtype.c_str(), "TCP") != 0 &&
        strcasecmp(trtype.c_str(), "LOOP") != 0) {
        return make_error(-EPROTONOSUPPORT,
                          "transport type '" + trtype + "' is not supported (TCP and RDMA are)");
    }
    if (auto r = range("max_queue_depth", max_queue_depth, min_queue_depth, max_queue_depth_limit);
        !r) {
        return r;
    }
    if (auto r = range("max_aq_depth", max_aq_depth, min_aq_depth, max_aq_depth_limit,
                       "NVMe over Fabrics admin queues have at least 32 entries");
        !r) {
        return r;
    }
    if (auto r = range("max_io_qpairs_per_ctrlr", max_io_qpairs_per_ctrlr, 1, max_io_qpairs_limit);
        !r) {
        return r;
    }
    if (auto r = range("max_io_size", max_io_size, min_io_size, max_io_size_limit); !r) return r;
    if (!is_pow2(max_io_size)) {
        return invalid(
            "'max_io_size' must be a power of two (MDTS is a power of two of 4 KiB pages), not " +
            std::to_string(max_io_size));
    }
    if (auto r = range("in_capsule_data_size", in_capsule_data_size, 0, max_icd_limit); !r)
        return r;
    if (in_capsule_data_size % 16 != 0) {
        return invalid(
            "'in_capsule_data_size' must be a multiple of 16 (IOCCSZ is in 16-byte units), not " +
            std::to_string(in_capsule_data_size));
    }
    if (in_capsule_data_size > max_io_size) {
        return invalid("'in_capsule_data_size' (" + std::to_string(in_capsule_data_size) +
                       ") must not exceed 'max_io_size' (" + std::to_string(max_io_size) + ")");
    }
    const uint32_t unit = io_unit_size < max_io_size ? io_unit_size : max_io_size;
    if (unit < min_io_unit_size) {
        return invalid("'io_unit_size' must be at least 512, not " + std::to_string(io_unit_size));
    }
    if ((max_io_size + unit - 1) / unit > max_sgl_entries) {
        return invalid("'io_unit_size' " + std::to_string(io_unit_size) +
                       " is too small: max_io_size / io_unit_size must be at most 16");
    }
    if (auto r = range("num_shared_buffers", num_shared_buffers, 1, max_shared_buffers); !r)
        return r;
    if (buf_cache_size != std::numeric_limits<uint32_t>::max() &&
        buf_cache_size > num_shared_buffers) {
        return invalid("'buf_cache_size' (" + std::to_string(buf_cache_size) +
                       ") must not exceed 'num_shared_buffers' (" +
                       std::to_string(num_shared_buffers) + ")");
    }
    if (auto r =
            range("kas", kas, 1, 0xffff, "Identify KAS is 16 bits; 0 would mean no keep-alive");
        !r) {
        return r;
    }
    if (auto r = range("min_kato", min_kato, 1, std::numeric_limits<uint32_t>::max()); !r) return r;
    if (auto r = range("sock_priority", sock_priority, 0, max_sock_priority,
                       "SO_PRIORITY above 6 needs CAP_NET_ADMIN");
        !r) {
        return r;
    }
    if (!rdma) return {};
    // A request takes max_io_size / io_unit_size buffers at once; SPDK asks for
    // room for two of the largest so that one can always make progress.
    const uint32_t per_io = (max_io_size + unit - 1) / unit;
    if (num_shared_buffers < 2 * per_io) {
        return invalid("'num_shared_buffers' (" + std::to_string(num_shared_buffers) +
                       ") must be at least " + std::to_string(2 * per_io) +
                       " for RDMA: two transfers of max_io_size in io_unit_size buffers");
    }
    if (auto r = range("max_srq_depth", max_srq_depth, 2, max_srq_depth_limit); !r) return r;
    if (auto r = range("acceptor_backlog", acceptor_backlog, 1, max_backlog); !r) return r;
    if (auto r = range("num_cqe", num_cqe, 1, max_cqe_limit); !r) return r;
    return {};
}

}  // namespace nvmf
