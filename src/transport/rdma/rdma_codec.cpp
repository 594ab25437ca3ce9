#include "transport/rdma/rdma_codec.hpp"

#include <cstring>

#include "nvme/spec/fabrics.hpp"

namespace nvmf::rdma {

namespace sr = spec::rdma;

namespace {

spec::status generic(uint8_t sc) { return spec::make_status(spec::sct::generic, sc, true); }

cm_decision refuse(sr::cm_status s) {
    cm_decision d;
    d.accept = false;
    d.reject = s;
    return d;
}

}  // namespace

cm_decision check_cm_request(const void* data, size_t len, const queue_limits& lim) {
    // RoCE and IB deliver the REQ's private data padded (56 or more bytes);
    // iWARP delivers what was sent. Fewer than 32 bytes is never valid.
    if (data == nullptr || len < sizeof(sr::cm_request)) {
        return refuse(sr::cm_status::invalid_private_data_length);
    }
    sr::cm_request req;
    std::memcpy(&req, data, sizeof(req));
    if (req.recfmt != 0) return refuse(sr::cm_status::invalid_recfmt);
    if (req.qid > lim.max_io_qpairs) return refuse(sr::cm_status::invalid_qid);
    const uint32_t limit = req.qid == 0 ? lim.max_aq_depth : lim.max_queue_depth;
    // HSQSIZE is 0's based: 0 would be a one-entry queue, which Connect refuses too.
    const uint32_t depth = static_cast<uint32_t>(req.hsqsize) + 1;
    if (req.hsqsize == 0 || depth > limit) return refuse(sr::cm_status::invalid_hsqsize);
    // Every command ends in one SEND of its response: a host with fewer
    // receive buffers than commands in flight would see receiver-not-ready.
    if (req.hrqsize < depth) return refuse(sr::cm_status::invalid_hrqsize);
    cm_decision d;
    d.accept = true;
    d.qid = req.qid;
    d.depth = static_cast<uint16_t>(depth);
    d.hrqsize = req.hrqsize;
    d.cntlid = req.cntlid;
    return d;
}

sr::cm_accept make_cm_accept(uint16_t crqsize) {
    sr::cm_accept a{};
    a.recfmt = 0;
    a.crqsize = crqsize;
    return a;
}

sr::cm_reject make_cm_reject(sr::cm_status sts) {
    sr::cm_reject r{};
    r.recfmt = 0;
    r.sts = static_cast<uint16_t>(sts);
    return r;
}

spec::xfer command_xfer(const spec::sqe& cmd) {
    if (cmd.opc == spec::admin_opc::fabrics) {
        // Fabrics commands take their direction from FCTYPE bits 1:0.
        return static_cast<spec::xfer>(reinterpret_cast<const spec::fabrics_cmd&>(cmd).fctype &
                                       0x3);
    }
    return spec::opcode_xfer(cmd.opc);
}

data_desc parse_capsule(const spec::sqe& cmd, uint32_t icd_len, const capsule_limits& lim) {
    data_desc d;
    auto fail = [&](uint8_t sc) {
        d.status = generic(sc);
        d.kind = data_kind::none;
        d.length = 0;
        return d;
    };
    const spec::xfer x = command_xfer(cmd);
    sr::keyed_sgl k;
    std::memcpy(&k, &cmd.sgl1, sizeof(k));
    const uint8_t type = k.type >> 4;
    const uint8_t sub = k.type & 0xf;
    const bool keyed = type == static_cast<uint8_t>(spec::sgl_type::keyed_data_block);
    const uint32_t len =
        keyed ? (static_cast<uint32_t>(k.length[0]) | static_cast<uint32_t>(k.length[1]) << 8 |
                 static_cast<uint32_t>(k.length[2]) << 16)
              : cmd.sgl1.length;
    if (x == spec::xfer::none || len == 0) {
        // No data: bytes after the SQE would be a host error.
        if (icd_len != 0) return fail(spec::sc::data_sgl_length_invalid);
        return d;
    }
    if (spec::sqe_psdt(cmd) == 0) return fail(spec::sc::invalid_field);  // PRPs: not on a fabric
    if (x == spec::xfer::bidirectional) return fail(spec::sc::invalid_field);

    if (keyed) {
        if (sub != sr::keyed_subtype_address && sub != sr::keyed_subtype_invalidate) {
            return fail(spec::sc::sgl_descriptor_type_invalid);
        }
        if (len > lim.max_io_size) return fail(spec::sc::data_sgl_length_invalid);
        // The data is in host memory; in-capsule bytes as well make no sense.
        if (icd_len != 0) return fail(spec::sc::data_sgl_length_invalid);
        d.kind = data_kind::keyed;
        d.xfer = x;
        d.length = len;
        d.address = k.address;
        std::memcpy(&d.rkey, k.key, sizeof(d.rkey));
        d.invalidate = sub == sr::keyed_subtype_invalidate && lim.keyed_invalidate_ok;
        return d;
    }
    if (type == static_cast<uint8_t>(spec::sgl_type::data_block) &&
        sub == static_cast<uint8_t>(spec::sgl_subtype::offset)) {
        // In-capsule data carries host-to-controller data only.
        if (x != spec::xfer::host_to_controller) {
            return fail(spec::sc::sgl_descriptor_type_invalid);
        }
        // The address is an offset into the in-capsule data (ICDOFF is 0).
        if (cmd.sgl1.address > lim.icd_size) return fail(spec::sc::invalid_sgl_offset);
        const auto off = static_cast<uint32_t>(cmd.sgl1.address);
        if (len > lim.icd_size - off || len > icd_len || off > icd_len - len) {
            return fail(spec::sc::data_sgl_length_invalid);
        }
        d.kind = data_kind::in_capsule;
        d.xfer = x;
        d.length = len;
        d.icd_offset = off;
        return d;
    }
    // Segments (MSDBD is 1), bit buckets, transport data blocks (TCP's):
    // nothing an RDMA host may send us.
    return fail(spec::sc::sgl_descriptor_type_invalid);
}

spec::status check_connect_matches(const spec::sqe& cmd, uint16_t cm_qid, uint16_t depth,
                                   uint16_t* ipo) {
    if (cmd.opc != spec::admin_opc::fabrics) return 0;
    spec::connect_cmd cc;
    std::memcpy(&cc, &cmd, sizeof(cc));
    if (cc.fctype != spec::fctype::connect) return 0;
    const auto bad = [&](uint16_t off) {
        *ipo = off;
        return spec::make_status(spec::sct::command_specific,
                                 spec::sc_cmd::connect_invalid_parameters, true);
    };
    if (cc.qid != cm_qid) return bad(offsetof(spec::connect_cmd, qid));
    if (static_cast<uint32_t>(cc.sqsize) + 1 > depth) {
        return bad(offsetof(spec::connect_cmd, sqsize));
    }
    return 0;
}

}  // namespace nvmf::rdma
