// A host-side NVMe-oF controller over TCP: the admin queue plus N I/O
// queues, with synchronous helpers for the admin and NVM commands. Async I/O
// goes straight to io(i).submit()/wait().
//
// Error convention (nvmf::error::code): negative errno for transport and
// protocol failures (see queue.hpp); helpers that return data rather than a
// completion report an NVMe failure with code = the status field (> 0).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "host/auth.hpp"
#include "host/commands.hpp"
#include "host/queue.hpp"
#include "nvme/spec/identify.hpp"
#include "util/result.hpp"

namespace nvmf::host {

constexpr uint8_t cattr_disable_sqflow = 1u << 2;

struct controller_options {
    std::string traddr = "127.0.0.1";
    std::string trsvcid = "4420";
    std::string subnqn = spec::discovery_nqn;
    std::string hostnqn;               // empty: nqn.2014-08.org.nvmexpress:uuid:<hostid>
    std::array<uint8_t, 16> hostid{};  // all zero: a random one
    // Sends an empty HOSTNQN (as spdk_nvme_perf does unless told one); for tests.
    bool empty_hostnqn = false;
    uint32_t kato_ms = 30000;
    bool disable_sqflow = false;  // Connect CATTR bit 2: lets C2HData carry SUCCESS
    bool hdgst = false;
    bool ddgst = false;
    uint32_t maxr2t = 0;
    uint16_t admin_queue_size = 32;  // entries (Connect SQSIZE is this minus one)
    uint16_t io_queue_size = 128;
    uint32_t num_io_queues = 1;
    uint32_t admin_icd_size = 8192;  // NVMe/TCP admin queues take 8 KiB in-capsule
    uint32_t io_icd_size = 0;        // 0: from IOCCSZ in Identify Controller
    int timeout_ms = 10000;
    // DH-HMAC-CHAP: a queue whose Connect response sets ATR authenticates
    // with auth.key (and checks the controller with auth.ctrl_key) before
    // anything else. skip_auth leaves it unauthenticated (refusal tests).
    auth_options auth;
    bool skip_auth = false;
    // TLS (a secure channel listener): the PSK in the interchange format
    // (NVMeTLSkey-1:HH:...:); empty: plain TCP. The identity offered is
    // NVMe0R (SPDK's) or, with psk_identity_version 1, NVMe1R with its digest.
    std::string psk;
    int psk_identity_version = 0;
    bool ktls = true;  // the record layer may go to the kernel
    // Secure channel concatenation (NVMe Base 2.1; nvme connect --concat):
    // the admin queue first connects in plain TCP and authenticates with
    // DH-HMAC-CHAP asking for a new TLS PSK (SC_C NEWTLSPSK); the host then
    // closes it and opens the admin and I/O queues over TLS with the
    // generated PSK (identity NVMe1G), as the Linux host does. Needs
    // auth.key; psk must be empty. A TLS admin queue asked to authenticate
    // (ATR) again replaces the PSK (REPLACETLSPSK).
    bool concat = false;
};

// The fabrics Connect exchange on an initialized queue.
result<completion> fabrics_connect(queue& q, uint16_t qid, uint16_t sqsize, uint32_t kato_ms,
                                   std::span<const uint8_t, 16> hostid, uint16_t cntlid,
                                   const std::string& hostnqn, const std::string& subnqn,
                                   uint8_t cattr = 0);

// An error carrying the NVMe status of a failed completion.
error status_error(const char* what, const completion& c);
std::string status_string(spec::status s);

class controller {
public:
    explicit controller(controller_options opts);

    // Connect the admin queue, enable, identify and connect the I/O queues.
    static result<std::unique_ptr<controller>> create(const controller_options& opts);

    // Bring-up steps, for tests that go one at a time.
    result<void> connect_admin();
    result<void> enable();
    result<void> identify_controller();
    result<void> add_io_queues(uint32_t n);
    result<void> shutdown();
    void disconnect();

    // A TCP connection with ICReq/ICResp done, using this controller's options.
    result<std::unique_ptr<queue>> open_queue(uint16_t depth, uint32_t icd_size) const;
    // Connects an I/O queue with this controller's cntlid, and authenticates
    // it when the controller asks (an authentication failure is an error).
    result<completion> connect_io(queue& q, uint16_t qid, uint16_t sqsize);
    // Runs DH-HMAC-CHAP on q again (re-authentication), with options().auth;
    // sc_c asks for secure channel concatenation (admin queue).
    result<auth_outcome> authenticate(queue& q, uint8_t sc_c = 0);
    // Secure channel concatenation on the TLS admin queue: REPLACETLSPSK. The
    // new PSK is used by the queues opened from now on (open ones keep
    // theirs).
    result<auth_outcome> replace_tls_psk();
    // With concat: the plain admin connection that generated the PSK, alone
    // (connect_admin does this and the TLS reconnection). For tests.
    result<auth_outcome> generate_tls_psk();
    // How the admin queue authenticated, if it did.
    const std::optional<auth_outcome>& admin_auth() const { return admin_auth_; }
    // Changes the keys used from now on (the next authenticate()).
    void set_auth(auth_options a) { opts_.auth = std::move(a); }

    queue& admin() { return *admin_; }
    queue& io(size_t i = 0) { return *io_.at(i); }
    size_t io_queue_count() const { return io_.size(); }
    uint16_t cntlid() const { return cntlid_; }
    const controller_options& options() const { return opts_; }
    const std::string& hostnqn() const { return opts_.hostnqn; }
    const spec::identify_ctrlr& data() const { return *id_; }
    uint64_t cap() const { return cap_; }
    // Largest transfer per command from MDTS (0: no limit).
    uint32_t max_transfer() const;
    uint32_t io_icd_size() const;

    // Admin.
    result<completion> property_get(uint32_t ofst, bool eight_bytes);
    result<completion> property_set(uint32_t ofst, uint64_t value, bool eight_bytes = false);
    result<uint64_t> get_property(uint32_t ofst);  // CAP is 8 bytes, the rest 4
    result<completion> identify(uint8_t cns, uint32_t nsid, std::span<uint8_t> out,
                                uint16_t cntid = 0);
    result<spec::identify_ctrlr> identify_ctrlr();
    result<spec::identify_ns> identify_ns(uint32_t nsid);
    result<std::vector<uint32_t>> active_ns_list(uint32_t start_nsid = 0);
    result<completion> get_log_page(uint8_t lid, uint32_t nsid, std::span<uint8_t> out,
                                    uint64_t offset = 0, uint8_t lsp = 0, bool rae = false);
    result<completion> get_features(uint8_t fid, uint32_t nsid = 0, uint32_t cdw11 = 0,
                                    uint8_t sel = 0);
    result<completion> set_features(uint8_t fid, uint32_t cdw11, uint32_t nsid = 0,
                                    uint32_t cdw12 = 0);
    result<completion> keep_alive();
    result<uint16_t> submit_aer();
    result<completion> admin_cmd(const spec::sqe& cmd, std::span<const uint8_t> out = {},
                                 std::span<uint8_t> in = {});

    // NVM I/O on I/O queue qi. nlb is the real block count.
    result<completion> read(uint32_t nsid, uint64_t slba, uint32_t nlb, std::span<uint8_t> buf,
                            size_t qi = 0);
    result<completion> write(uint32_t nsid, uint64_t slba, uint32_t nlb,
                             std::span<const uint8_t> buf, size_t qi = 0);
    result<completion> compare(uint32_t nsid, uint64_t slba, uint32_t nlb,
                               std::span<const uint8_t> buf, size_t qi = 0);
    result<completion> flush(uint32_t nsid, size_t qi = 0);
    result<completion> write_zeroes(uint32_t nsid, uint64_t slba, uint32_t nlb, bool deac = false,
                                    size_t qi = 0);
    result<completion> deallocate(uint32_t nsid, std::span<const cmd::dsm_range> ranges,
                                  size_t qi = 0);

    // Reservations on I/O queue qi (keys as the Base spec's data structures).
    result<completion> resv_register(uint32_t nsid, uint8_t rrega, uint64_t crkey, uint64_t nrkey,
                                     bool iekey = false, uint8_t cptpl = 0, size_t qi = 0);
    result<completion> resv_acquire(uint32_t nsid, uint8_t racqa, uint8_t rtype, uint64_t crkey,
                                    uint64_t prkey = 0, bool iekey = false, size_t qi = 0);
    result<completion> resv_release(uint32_t nsid, uint8_t rrela, uint8_t rtype, uint64_t crkey,
                                    bool iekey = false, size_t qi = 0);
    result<completion> resv_report(uint32_t nsid, std::span<uint8_t> out, bool eds = true,
                                   size_t qi = 0);

    // TLS settings for this controller's queues (null: plain TCP).
    const std::shared_ptr<const tls_options>& tls() const { return tls_; }
    // Uses these credentials for the queues opened from now on (tests).
    void set_tls_credentials(keyring::tls_credentials creds);

private:
    controller_options opts_;
    std::shared_ptr<const tls_options> tls_;
    error tls_error_;  // a psk that could not be used
    std::unique_ptr<queue> admin_;
    std::vector<std::unique_ptr<queue>> io_;
    std::unique_ptr<spec::identify_ctrlr> id_;
    // Authenticates q when the Connect completion c asks for it (ATR).
    result<void> after_connect(queue& q, const completion& c, std::optional<auth_outcome>* out);

    uint16_t cntlid_ = 0;
    uint64_t cap_ = 0;
    uint16_t next_tid_ = 1;
    std::optional<auth_outcome> admin_auth_;
};

}  // namespace nvmf::host
