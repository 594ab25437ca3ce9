// SPDK's rpc.py, unchanged (../shared/spdk-rpc), against the daemon: every
// method the daemon has, with every option rpc.py offers for it. rpc.py
// sends its defaults with each command (no_auto_visible and hide_metadata
// with every nvmf_subsystem_add_ns, no_srq and c2h_success with every
// nvmf_create_transport...), so one accepted command per method shows the
// defaults are accepted; each other option is either honoured, accepted
// with no effect (docs/rpc.md), or refused with a message naming it. The
// test fails when a method or an rpc.py option has no case here, so a new
// method or a newer rpc.py cannot slip by unjudged.
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "bdev/bdev.hpp"
#include "spdk_rpc_py.hpp"

namespace nvmf::test {
namespace {

using nlohmann::json;

constexpr const char* nqn1 = "nqn.2016-06.io.spdk:rpcpy1";
constexpr const char* nqn2 = "nqn.2016-06.io.spdk:rpcpy2";
constexpr const char* host1 =
    "nqn.2014-08.org.nvmexpress:uuid:11111111-1111-4111-8111-111111111111";
constexpr const char* host2 =
    "nqn.2014-08.org.nvmexpress:uuid:22222222-2222-4222-8222-222222222222";
constexpr const char* before_init = "Method may only be called after framework is initialized";
constexpr const char* after_init = "Method may only be called before framework is initialized";

// Before framework_start_init (--wait-for-rpc): the STARTUP methods.
std::vector<rpc_case> startup_cases() {
    return {
        ok("rpc_get_methods"),
        ok("rpc_get_methods --current --include-aliases"),
        ok("spdk_get_version"),
        ok("log_set_level DEBUG"),
        ok("log_set_level WARNING"),
        ok("log_get_level"),
        ok("log_set_print_level NOTICE"),
        ok("log_get_print_level"),
        ok("log_get_flags"),
        no("framework_get_reactors", before_init),
        no("bdev_get_bdevs", before_init),
        no("framework_get_config nvmf", before_init),
        ok("iobuf_set_options"),
        ok("iobuf_set_options --small-pool-count 8192 --large-pool-count 1024 --small-bufsize 8192 "
           "--large-bufsize 135168"),
        no("iobuf_set_options --small-pool-count 10", "small_pool_count"),
        no("iobuf_set_options --enable-numa", "NUMA"),
        ok("sock_set_default_impl -i posix"),
        no("sock_set_default_impl -i ssl", "secure_channel"),
        ok("sock_impl_set_options -i posix"),
        ok("sock_impl_set_options -i posix -r 2097152 -s 2097152 -p 0 --recv-pipe --quickack "
           "--zerocopy-send-server --zerocopy-send-client --zerocopy-threshold 0 --tls-version 0 "
           "--no-ktls"),
        ok("sock_impl_set_options -i ssl --no-recv-pipe --no-quickack --no-zerocopy-send-server "
           "--no-zerocopy-send-client"),
        no("sock_impl_set_options -i posix -p 1", "enable_placement_id"),
        ok("sock_impl_set_options -i ssl --tls-version 13 --ktls"),
        no("sock_impl_set_options -i ssl --tls-version 12", "TLS 1.3"),
        ok("sock_impl_set_options -i ssl --tls-version 0 --no-ktls"),
        no("sock_impl_set_options -i uring", "unknown socket implementation"),
        ok("sock_impl_get_options -i ssl"),
        ok("sock_impl_get_options --impl posix"),
        no("sock_impl_get_options -i uring", "unknown socket implementation"),
        ok("accel_set_options"),
        ok("accel_set_options --small-cache-size 128 --large-cache-size 16 --task-count 2048 "
           "--sequence-count 2048 --buf-count 2048"),
        ok("bdev_set_options"),
        ok("bdev_set_options -p 65535 -c 256 --auto-examine --iobuf-small-cache-size 128 "
           "--iobuf-large-cache-size 16"),
        ok("bdev_set_options --no-auto-examine"),
        ok("bdev_raid_set_options"),
        ok("bdev_raid_set_options -w 1024 -b 0"),
        ok("bdev_nvme_set_options"),
        ok("bdev_nvme_set_options -a none -t 0 --timeout-admin-us 0 -k 10000 --arbitration-burst 0 "
           "--low-priority-weight 0 --medium-priority-weight 0 --high-priority-weight 0 -p 10000 "
           "-i 0 -s 512 -d -c 4 -r 3 -e 0 -l 0 -o 0 -u 0 -f --generate-uuids --transport-tos 0 -m "
           "-q 0 --io-path-stat --allow-accel-sequence --rdma-max-cq-size 0 "
           "--rdma-cm-event-timeout-ms 0 --dhchap-digests sha256,sha384,sha512 "
           "--dhchap-dhgroups null,ffdhe2048 --rdma-umr-per-io --tcp-connect-timeout-ms 0 "
           "--enable-flush --policy active_passive --selector round_robin --min-io 10"),
        no("bdev_nvme_set_options --no-rdma-umr-per-io --dhchap-digests md5", "dhchap_digests"),
        ok("nvmf_set_config"),
        ok("nvmf_set_config --discovery-filters match_any --dhchap-digests sha256 "
           "--dhchap-dhgroups null,ffdhe8192 --dup-host-policy allow"),
        ok("nvmf_set_config -d match_any"),
        no("nvmf_set_config -p identify_ctrlr", "passthrough"),
        no("nvmf_set_config -m 0x1", "poll_groups_mask"),
        no("nvmf_set_config --discovery-filters transport,address", "match_any"),
        no("nvmf_set_config --dup-host-policy restrict_per_listener", "dup_host_policy"),
        ok("nvmf_set_max_subsystems -x 64"),
        no("nvmf_set_max_subsystems -x 0", "max_subsystems"),
        ok("nvmf_set_crdt"),
        ok("nvmf_set_crdt -t1 0 -t2 0 -t3 0"),
        no("nvmf_set_crdt -t1 5", "crdt1"),
        ok("framework_set_scheduler static"),
        ok("framework_set_scheduler static -p 1000000 --load-limit 20 --core-limit 80 "
           "--core-busy 95"),
        no("framework_set_scheduler dynamic", "static"),
        no("framework_set_scheduler static --mappings 0:1", "mappings"),
        ok("framework_start_init"),
    };
}

// After framework_start_init: everything else, in an order that builds a
// target and takes it apart again.
std::vector<rpc_case> runtime_cases(const std::string& port, const std::string& file,
                                    const std::string& key0, const std::string& key1,
                                    const std::string& psk0) {
    const std::string l1 = " -t tcp -a 127.0.0.1 -s " + port;
    const std::string ptpl = file + ".ptpl";  // a PTPL file next to the aio image
    const std::string n1 = std::string(" ") + nqn1;
    const std::string n2 = std::string(" ") + nqn2;
    const std::string host3 =
        "nqn.2014-08.org.nvmexpress:uuid:33333333-3333-4333-8333-333333333333";
    return {
        ok("framework_wait_init"),
        no("framework_start_init", after_init),
        no("iobuf_set_options", after_init),
        ok("rpc_get_methods --current"),
        ok("framework_get_subsystems"),
        ok("framework_get_config bdev"),
        ok("framework_get_config nvmf --with-batches"),
        ok("framework_get_config nvmf --no-with-batches"),
        no("framework_get_config vhost", "Subsystem 'vhost' not found"),
        ok("framework_set_scheduler static"),
        ok("framework_get_reactors"),
        ok("log_set_level INFO"),
        ok("log_set_print_level INFO"),
        ok("bdev_raid_set_options -w 1024"),
        ok("bdev_nvme_set_options"),
        ok("bdev_nvme_set_hotplug --no-hotplug"),
        ok("bdev_nvme_set_hotplug --no-hotplug -r 100000"),
        no("bdev_nvme_set_hotplug --hotplug", "hot-inserted"),
        // Transports: the refusals first (nothing is created by them).
        no("nvmf_create_transport -t TCP --masked-oncs nvmcmps", "masked_oncs"),
        no("nvmf_create_transport -t TCP --masked-fuses fcws", "masked_fuses"),
        no("nvmf_create_transport -t TCP -r", "no_srq"),
        no("nvmf_create_transport -t TCP -w", "no_wr_batching"),
        no("nvmf_create_transport -t TCP -d 1024", "num_cqe"),
        no("nvmf_create_transport -t TCP -s 1024", "max_srq_depth"),
        no("nvmf_create_transport -t TCP -l 100", "acceptor_backlog"),
        no("nvmf_create_transport -t TCP -M", "VFIO-USER"),
        no("nvmf_create_transport -t TCP -I", "VFIO-USER"),
        no("nvmf_create_transport -t TCP -S", "VFIO-USER"),
        ok("nvmf_create_transport -t TCP -g nvmf_tgt -q 64 -m 16 -c 4096 -i 131072 -u 131072 "
           "-a 64 -n 255 -b 16 --iobuf-large-cache-size 16 -z -o -f -y 1 -x 2 -e 16 "
           "--acceptor-poll-rate 5000 --ack-timeout 0 --data-wr-pool-size 0 "
           "--disable-command-passthru --kas 50 --min-kato 5000"),
        no("nvmf_create_transport -t TCP", "already exists"),
        {"nvmf_create_transport -t RDMA --iobuf-small-cache-size 8 -d 4096 -s 4096 -r -l 100 -w",
         outcome::ok_unless_no_rdma, "no rdma-core"},
        ok("nvmf_get_transports"),
        ok("nvmf_get_transports --trtype tcp -t nvmf_tgt"),
        no("nvmf_get_transports --trtype FC", "has not been created"),
        // bdevs
        ok("bdev_malloc_create 8 512"),
        ok("bdev_malloc_create -b M1 -u 11111111-2222-4333-8444-555555555555 -p 512 -o 0 -m 0 -i "
           "-t 0 -d -f 0 --numa-id=-1 8 512"),
        no("bdev_malloc_create -b M2 -m 16 8 512", "md_size"),
        no("bdev_malloc_create -b M2 -t 1 8 512", "dif_type"),
        no("bdev_malloc_create -b M2 -f 1 8 512", "dif_pi_format"),
        no("bdev_malloc_create -b M2 -p 4096 8 512", "physical_block_size"),
        no("bdev_malloc_create -b M2 -o 8 8 512", "optimal_io_boundary"),
        no("bdev_malloc_create -b M2 --numa-id 0 8 512", "numa_id"),
        ok("bdev_null_create N1 8 512"),
        ok("bdev_null_create N2 -u 22222222-2222-4333-8444-555555555555 -p 512 -m 0 -t 0 -d -f 0 "
           "-a 0 -g 0 -s 0 -c 0 -r 0 8 512"),
        no("bdev_null_create N3 -a 8 8 512", "preferred_write_alignment"),
        no("bdev_null_create N3 -g 8 8 512", "preferred_write_granularity"),
        no("bdev_null_create N3 -s 8 8 512", "optimal_write_size"),
        no("bdev_null_create N3 -c 8 8 512", "preferred_unmap_alignment"),
        no("bdev_null_create N3 -r 8 8 512", "preferred_unmap_granularity"),
        no("bdev_null_create N3 -m 8 -t 1 8 512", "md_size"),
        ok("bdev_aio_create " + file + " A1"),
        ok("bdev_aio_create " + file +
           " A2 4096 -r --fallocate -u 33333333-2222-4333-8444-555555555555"),
        no("bdev_aio_create " + file + " A3 --no-wait", "nowait"),
        ok("bdev_uring_create " + file + " U1"),
        ok("bdev_uring_create " + file + " U2 4096 -u 44444444-2222-4333-8444-555555555555"),
        ok("bdev_get_bdevs"),
        ok("bdev_get_bdevs -b M1 -t 100"),
        no("bdev_get_bdevs -b Nothing", "does not exist"),
        ok("bdev_wait_for_examine"),
        // Delay bdevs (SPDK's abort.sh spells them so), on RAM disks of their own.
        ok("bdev_malloc_create -b MD1 8 512"),
        ok("bdev_malloc_create -b MD2 8 512"),
        ok("bdev_delay_create -b MD1 -d D1 -r 1000000 -t 1000000 -w 1000000 -n 1000000"),
        ok("bdev_delay_create --base-bdev-name MD2 --name D2 -u "
           "55555555-2222-4333-8444-555555555555 --avg-read-latency 10 "
           "--nine-nine-read-latency 20 --avg-write-latency 30 --nine-nine-write-latency 40"),
        no("bdev_delay_create -b MD1 -d D3 -r 10 -t 5 -w 0 -n 0", "p99"),
        no("bdev_delay_create -b MD1 -d D3 -r 10 -t 10 -w 0 -n 0", "claimed"),
        no("bdev_delay_create -b Nothing -d D3 -r 10 -t 10 -w 0 -n 0", "does not exist"),
        ok("bdev_delay_update_latency D1 p99_read 50"),
        ok("bdev_delay_update_latency D2 avg_write 0"),
        no("bdev_delay_update_latency MD1 avg_read 1", "does not exist"),
        // Subsystems, listeners, namespaces, hosts.
        ok("nvmf_create_subsystem" + n1),
        ok("nvmf_create_subsystem" + n2 +
           " -t nvmf_tgt -s SN123 -d 'Model X' -a -m 16 -r -i 5 -I 500 --dmrsl 1024 --wzsl 6"),
        no("nvmf_create_subsystem nqn.2016-06.io.spdk:rpcpy3 -p", "passthrough"),
        no("nvmf_create_subsystem nqn.2016-06.io.spdk:rpcpy3 -n", "enable_nssr"),
        no("nvmf_create_subsystem nqn.2016-06.io.spdk:rpcpy3 --admin-label LABEL", "admin_label"),
        ok("nvmf_get_subsystems"),
        ok("nvmf_get_subsystems" + n2 + " -t nvmf_tgt"),
        ok("nvmf_subsystem_add_listener" + n1 + l1),
        ok("nvmf_subsystem_add_listener" + n2 + l1 +
           " -f ipv4 -p nvmf_tgt -n non_optimized -S posix --numa-id -1"),
        ok("nvmf_subsystem_add_listener discovery" + l1),
        ok("nvmf_subsystem_add_listener" + n1 + " -t tcp -a 127.0.0.2 -s " + port + " -k"),
        ok("nvmf_subsystem_add_listener" + n1 + " -t tcp -a 127.0.0.3 -s " + port + " -S ssl"),
        no("nvmf_subsystem_add_listener" + n1 + " -t tcp -a 127.0.0.4 -s " + port + " -k -S posix",
           "sock_impl"),
        // One address is TLS for every subsystem on it, or for none.
        no("nvmf_subsystem_add_listener" + n2 + " -t tcp -a 127.0.0.2 -s " + port, "TLS"),
        ok("nvmf_subsystem_get_listeners" + n2),
        ok("nvmf_subsystem_get_listeners" + n2 + " -t nvmf_tgt"),
        ok("nvmf_subsystem_listener_set_ana_state" + n2 + " -n inaccessible" + l1),
        ok("nvmf_subsystem_listener_set_ana_state" + n2 + " -n optimized" + l1 +
           " -f ipv4 -p nvmf_tgt -g 2"),
        ok("nvmf_subsystem_add_ns" + n1 + " M1"),
        ok("nvmf_subsystem_add_ns" + n2 +
           " N1 -t nvmf_tgt -n 2 -g 000102030405060708090A0B0C0D0E0F -e 0011223344556677 "
           "-u 55555555-2222-4333-8444-555555555555 -a 3 -N"),
        // Masking: a no_auto_visible namespace and the hosts that see it.
        ok("nvmf_subsystem_add_ns" + n1 + " N2 -n 6 -i"),
        ok("nvmf_ns_add_host" + n1 + " 6 " + host1),
        ok("nvmf_ns_add_host" + n1 + " 6 " + host2 + " -t nvmf_tgt"),
        ok("nvmf_ns_remove_host" + n1 + " 6 " + host1),
        ok("nvmf_ns_remove_host" + n1 + " 6 " + host2 + " -t nvmf_tgt"),
        no("nvmf_ns_add_host" + n1 + " 1 " + host1, "visible to every host"),
        no("nvmf_ns_add_host" + n1 + " 7 " + host1, "not active"),
        no("nvmf_ns_remove_host" + n1 + " 6 not-an-nqn", "NQN"),
        ok("nvmf_subsystem_remove_ns" + n1 + " 6"),
        no("nvmf_subsystem_add_ns" + n1 + " N2 -p /nonexistent-dir/ptpl", "directory"),
        ok("nvmf_subsystem_add_ns" + n1 + " N2 -n 5 -p " + ptpl),
        ok("nvmf_subsystem_remove_ns" + n1 + " 5"),
        ok("nvmf_subsystem_remove_ns" + n2 + " 2 -t nvmf_tgt"),
        ok("nvmf_subsystem_add_host" + n1 + " " + host1),
        ok("nvmf_subsystem_add_host" + n1 + " " + host2 + " -t nvmf_tgt"),
        // Keys (DHHC-1 secrets in 0600 files) and the hosts that use them.
        ok("keyring_file_add_key key0 " + key0),
        ok("keyring_file_add_key key1 " + key1),
        no("keyring_file_add_key key0 " + key1, "already exists"),
        no("keyring_file_add_key key2 relative.key", "Non-absolute"),
        ok("keyring_get_keys"),
        ok("keyring_file_add_key psk0 " + psk0),
        no("nvmf_subsystem_add_host" + n2 + " " + host1 + " --psk key0", "PSK"),
        no("nvmf_subsystem_add_host" + n2 + " " + host1 + " --psk nokey", "does not exist"),
        ok("nvmf_subsystem_add_host" + n1 + " " + host3 + " --psk psk0"),
        ok("nvmf_subsystem_remove_host" + n1 + " " + host3),
        no("nvmf_subsystem_add_host" + n2 + " " + host1 + " --dhchap-ctrlr-key key1",
           "requires host key"),
        ok("nvmf_subsystem_add_host" + n2 + " " + host1 + " --dhchap-key key0"),
        ok("nvmf_subsystem_add_host" + n2 + " " + host2 +
           " --dhchap-key key0 --dhchap-ctrlr-key key1 -t nvmf_tgt"),
        ok("nvmf_subsystem_set_keys" + n2 + " " + host1 + " --dhchap-key key1 -t nvmf_tgt"),
        ok("nvmf_subsystem_set_keys" + n2 + " " + host2 +
           " --dhchap-key key1 --dhchap-ctrlr-key key0"),
        no("nvmf_subsystem_set_keys" + n2 + " " + host1 + " --dhchap-key nokey", "nokey"),
        ok("nvmf_set_config --dhchap-digests sha384,sha512 --dhchap-dhgroups ffdhe2048"),
        ok("nvmf_subsystem_remove_host" + n1 + " " + host1),
        ok("nvmf_subsystem_remove_host" + n1 + " " + host2 + " -t nvmf_tgt -T 1000"),
        ok("nvmf_subsystem_allow_any_host" + n1 + " --allow-any-host"),
        ok("nvmf_subsystem_allow_any_host" + n1 + " --no-allow-any-host -t nvmf_tgt"),
        ok("nvmf_subsystem_get_controllers" + n1),
        ok("nvmf_subsystem_get_controllers" + n1 + " -t nvmf_tgt"),
        ok("nvmf_subsystem_get_qpairs" + n1),
        ok("nvmf_subsystem_get_qpairs" + n1 + " -t nvmf_tgt"),
        ok("nvmf_get_stats"),
        ok("nvmf_get_stats -t nvmf_tgt"),
        // rpc.py's own compositions of framework_get_subsystems/_get_config.
        ok("save_config"),
        ok("save_config -i -1 -s nvmf --with-batches"),
        ok("save_config --no-with-batches"),
        ok("save_subsystem_config -n bdev -i 4 --with-batches"),
        // Taking it apart.
        ok("nvmf_subsystem_remove_listener" + n2 + l1 + " -f ipv4 -p nvmf_tgt"),
        ok("nvmf_subsystem_remove_listener" + n1 + l1),
        ok("nvmf_subsystem_remove_listener discovery" + l1),
        ok("nvmf_delete_subsystem" + n2 + " -t nvmf_tgt"),
        ok("nvmf_delete_subsystem" + n1),
        ok("bdev_malloc_delete M1"),
        ok("bdev_malloc_delete Malloc0"),
        ok("bdev_delay_delete D1"),
        ok("bdev_delay_delete D2"),
        no("bdev_delay_delete D1", "does not exist"),
        ok("bdev_malloc_delete MD1"),
        ok("bdev_malloc_delete MD2"),
        ok("bdev_null_delete N1"),
        ok("bdev_null_delete N2"),
        ok("bdev_aio_delete A1"),
        ok("bdev_aio_delete A2"),
        ok("bdev_uring_delete U1"),
        ok("bdev_uring_delete U2"),
        ok("keyring_file_remove_key key0"),
        ok("keyring_file_remove_key key1"),
        ok("keyring_file_remove_key psk0"),
        no("keyring_file_remove_key key1", "does not exist"),
    };
}

class spdk_rpc_py_test : public rpc_py_test {
protected:
    void TearDown() override {
        if (tgt_.running()) {
            EXPECT_TRUE(tgt_.stop());
        }
    }
    daemon tgt_;
};

TEST_F(spdk_rpc_py_test, EveryMethodWithEveryOption) {
    ASSERT_TRUE(tgt_.start_json(nullptr, "", {"--wait-for-rpc"}));
    const std::string port = std::to_string(pick_port());
    const std::string file = tgt_.dir() + "/aio.img";
    { std::ofstream(file).close(); }
    ASSERT_EQ(::truncate(file.c_str(), 4 << 20), 0);

    const auto startup = startup_cases();
    EXPECT_EQ(check(startup, rpc_py_many(tgt_, lines_of(startup))), 0);
    // nvmf_set_config (DH-HMAC-CHAP sets) and nvmf_set_max_subsystems are
    // honoured: the saved config says what the last accepted calls set.
    const json nvmf = tgt_.rpc("framework_get_config", {{"name", "nvmf"}});
    ASSERT_TRUE(nvmf.contains("result")) << nvmf.dump();
    ASSERT_GE(nvmf["result"].size(), 2u) << nvmf.dump();
    EXPECT_EQ(nvmf["result"][0]["method"], "nvmf_set_config");
    EXPECT_EQ(nvmf["result"][0]["params"]["dhchap_digests"], json::parse(R"(["sha256"])"));
    EXPECT_EQ(nvmf["result"][0]["params"]["dhchap_dhgroups"],
              json::parse(R"(["null","ffdhe8192"])"));
    EXPECT_EQ(
        nvmf["result"][1],
        json::parse(R"({"method":"nvmf_set_max_subsystems","params":{"max_subsystems":64}})"));

    // Keys for the DH-HMAC-CHAP cases: nvme-cli's gen-dhchap-key output, in
    // files only we may read (keyring_file_add_key refuses anything else).
    // The PSK is nvme-cli's gen-tls-key interchange form.
    const std::string key0 = tgt_.dir() + "/key0", key1 = tgt_.dir() + "/key1";
    const std::string psk0 = tgt_.dir() + "/psk0";
    for (const auto& [path, text] :
         {std::pair{key0, "DHHC-1:01:7EyObguKeKyva0YDZfzPC5NsEGwSFGLDSZhtJF64noKghhCb:"},
          std::pair{psk0, "NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:"},
          std::pair{key1,
                    "DHHC-1:02:N2EjLz87Rs+1WiptadhL5c+"
                    "gjUPHK50YzM6vvFtXPUvAmEEXhBNxqpXyPx14MlVjvR4I2w==:"}}) {
        std::ofstream(path) << text << "\n";
        ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
    }
    const auto runtime = runtime_cases(port, file, key0, key1, psk0);
    EXPECT_EQ(check(runtime, rpc_py_many(tgt_, lines_of(runtime))), 0);

    // Every method of the daemon has a case, one of them accepted (so rpc.py's
    // defaults are), and every option rpc.py has for it appears in one.
    const json methods = tgt_.rpc("rpc_get_methods");
    ASSERT_TRUE(methods.contains("result")) << methods.dump();
    const json options = rpc_py_options();
    ASSERT_TRUE(options.is_object()) << "could not list rpc.py's options";
    std::map<std::string, std::vector<const rpc_case*>> by_method;
    for (const auto* set : {&startup, &runtime}) {
        for (const auto& c : *set) by_method[command_of(c.line)].push_back(&c);
    }
    for (const auto& m : methods["result"]) {
        const std::string name = m.get<std::string>();
        // They need a Ceph cluster: rbd_integration_tests has their cases
        // (rbd_rpc_py.every_rbd_method_and_option), against one.
        if (name.rfind("bdev_rbd_", 0) == 0) continue;
        // Ours (rpc.py has no gateway groups); rbd_integration_tests'
        // gateway_group_test calls them, against a cluster.
        if (name.rfind("gateway_group_", 0) == 0) continue;
        SCOPED_TRACE("method " + name);
        ASSERT_TRUE(options.contains(name)) << "rpc.py has no command " << name;
        const auto& cases = by_method[name];
        EXPECT_TRUE(std::any_of(cases.begin(), cases.end(),
                                [](const rpc_case* c) { return c->expect != outcome::refused; }))
            << "no accepted rpc.py " << name << " case";
        for (const auto& opt : options[name]) {
            const std::string spellings = opt.get<std::string>();
            EXPECT_TRUE(
                std::any_of(cases.begin(), cases.end(),
                            [&](const rpc_case* c) { return line_has_option(c->line, spellings); }))
                << "no case passes rpc.py " << name << " " << spellings;
        }
    }
}

// The two commands of issue 13 that failed with rpc.py, exactly.
TEST_F(spdk_rpc_py_test, IssueCommands) {
    daemon_config c = daemon_config::simple();
    c.bdevs.push_back({"Malloc1", 8192, 512});
    ASSERT_TRUE(tgt_.start(c));

    const auto saved = rpc_py(tgt_, "save_config");
    ASSERT_EQ(saved.status, 0) << saved.output;
    ASSERT_TRUE(json::accept(saved.output)) << saved.output;
    const json cfg = json::parse(saved.output);
    ASSERT_EQ(cfg["subsystems"].size(), 4u) << saved.output;
    EXPECT_EQ(cfg["subsystems"][0]["subsystem"], "keyring");
    EXPECT_EQ(cfg["subsystems"][1]["subsystem"], "sock");
    EXPECT_EQ(cfg["subsystems"][2]["subsystem"], "bdev");
    EXPECT_EQ(cfg["subsystems"][3]["subsystem"], "nvmf");

    const auto added =
        rpc_py(tgt_, "nvmf_subsystem_add_ns nqn.2016-06.io.spdk:cnode1 Malloc1 -n 2");
    ASSERT_EQ(added.status, 0) << added.output;
    // A host sees it.
    auto ctrlr = host::controller::create(tgt_.ctrlr_opts());
    ASSERT_TRUE(ctrlr) << ctrlr.err().message;
    auto nsids = (*ctrlr)->active_ns_list();
    ASSERT_TRUE(nsids) << nsids.err().message;
    EXPECT_EQ(*nsids, (std::vector<uint32_t>{1, 2}));
}

// A target with a bit of everything, for the round trip.
json round_trip_config(const std::string& port, const std::string& file) {
    auto e = [](const char* m, json p) { return json{{"method", m}, {"params", std::move(p)}}; };
    const json addr = listen_address(port);
    const std::string a = "nqn.2016-06.io.spdk:a", b = "nqn.2016-06.io.spdk:b",
                      c = "nqn.2016-06.io.spdk:c";
    json bdev = json::array({
        e("bdev_malloc_create", {{"name", "Malloc0"}, {"num_blocks", 4096}, {"block_size", 512}}),
        e("bdev_null_create", {{"name", "Null0"},
                               {"num_blocks", 8192},
                               {"block_size", 4096},
                               {"uuid", "0f8e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"}}),
        e("bdev_aio_create", {{"name", "Aio0"}, {"filename", file}, {"readonly", true}}),
        e("bdev_uring_create", {{"name", "Uring0"}, {"filename", file}, {"block_size", 4096}}),
    });
    json nvmf = json::array({
        e("nvmf_set_max_subsystems", {{"max_subsystems", 100}}),
        e("nvmf_create_transport",
          {{"trtype", "TCP"}, {"max_queue_depth", 64}, {"c2h_success", false}, {"kas", 20}}),
        e("nvmf_create_subsystem",
          {{"nqn", a}, {"allow_any_host", true}, {"serial_number", "SNA"}, {"dmrsl", 4096}}),
        e("nvmf_create_subsystem", {{"nqn", b},
                                    {"model_number", "Model B"},
                                    {"max_namespaces", 8},
                                    {"min_cntlid", 10},
                                    {"max_cntlid", 20}}),
        e("nvmf_create_subsystem", {{"nqn", c}, {"ana_reporting", true}, {"max_namespaces", 4}}),
        e("nvmf_subsystem_add_host", {{"nqn", b}, {"host", host1}}),
        e("nvmf_subsystem_add_ns", {{"nqn", a},
                                    {"namespace",
                                     {{"bdev_name", "Malloc0"},
                                      {"nguid", "000102030405060708090A0B0C0D0E0F"},
                                      {"eui64", "0011223344556677"}}}}),
        e("nvmf_subsystem_add_ns",
          {{"nqn", b}, {"namespace", {{"bdev_name", "Null0"}, {"nsid", 5}}}}),
        e("nvmf_subsystem_add_ns",
          {{"nqn", c}, {"namespace", {{"bdev_name", "Aio0"}, {"nsid", 1}, {"anagrpid", 3}}}}),
        e("nvmf_subsystem_add_ns", {{"nqn", c}, {"namespace", {{"bdev_name", "Uring0"}}}}),
        e("nvmf_subsystem_add_listener", {{"nqn", a}, {"listen_address", addr}}),
        e("nvmf_subsystem_add_listener", {{"nqn", b}, {"listen_address", addr}}),
        e("nvmf_subsystem_add_listener", {{"nqn", c}, {"listen_address", addr}}),
        e("nvmf_subsystem_add_listener", {{"nqn", spec::discovery_nqn}, {"listen_address", addr}}),
        e("nvmf_subsystem_listener_set_ana_state",
          {{"nqn", c}, {"listen_address", addr}, {"ana_state", "non_optimized"}, {"anagrpid", 3}}),
    });
    return {{"subsystems", json::array({{{"subsystem", "bdev"}, {"config", bdev}},
                                        {{"subsystem", "nvmf"}, {"config", nvmf}}})}};
}

// rpc.py save_config -> a daemon started with --json of that file -> rpc.py
// save_config: the same text. rpc.py load_config of the file gives the same
// target too: all of it before framework_start_init (--wait-for-rpc), and
// all but the STARTUP entries into a running target, as with SPDK.
TEST_F(spdk_rpc_py_test, SaveConfigRoundTrip) {
    const std::string port = std::to_string(pick_port());
    const std::string work = ::testing::TempDir() + "/rpcpy-" + std::to_string(::getpid());
    std::filesystem::create_directories(work);
    const std::string file = work + "/disk.img";
    { std::ofstream(file).close(); }
    ASSERT_EQ(::truncate(file.c_str(), 8 << 20), 0);
    const std::string saved_path = work + "/saved.json";

    ASSERT_TRUE(tgt_.start_json(round_trip_config(port, file), port));
    const auto s1 = rpc_py(tgt_, "save_config");
    ASSERT_EQ(s1.status, 0) << s1.output;
    ASSERT_TRUE(json::accept(s1.output)) << s1.output;
    { std::ofstream(saved_path) << s1.output; }
    ASSERT_TRUE(tgt_.stop());

    ASSERT_TRUE(tgt_.start_json(nullptr, port, {"--json", saved_path}));
    const auto s2 = rpc_py(tgt_, "save_config");
    ASSERT_EQ(s2.status, 0) << s2.output;
    EXPECT_EQ(s2.output, s1.output);
    ASSERT_TRUE(tgt_.stop());

    ASSERT_TRUE(tgt_.start_json(nullptr, "", {"--wait-for-rpc"}));
    const auto loaded = rpc_py(tgt_, "load_config -j " + sh_quote(saved_path));
    EXPECT_EQ(loaded.status, 0) << loaded.output;
    EXPECT_EQ(loaded.output, "");
    const auto s3 = rpc_py(tgt_, "save_config");
    EXPECT_EQ(s3.output, s1.output);
    ASSERT_TRUE(tgt_.stop());

    ASSERT_TRUE(tgt_.start_json(json{{"subsystems", json::array()}}, ""));
    const auto running = rpc_py(tgt_, "load_config", saved_path);
    EXPECT_EQ(running.status, 0) << running.output;
    EXPECT_NE(running.output.find("Some configs were skipped"), std::string::npos)
        << running.output;
    const auto s4 = rpc_py(tgt_, "save_config");
    ASSERT_TRUE(json::accept(s4.output)) << s4.output;
    json expected = json::parse(s1.output);
    auto& nvmf = expected["subsystems"][3]["config"];
    ASSERT_EQ(expected["subsystems"][3]["subsystem"], "nvmf");
    // The one STARTUP entry, skipped by rpc.py into a running target.
    auto startup_only = std::find_if(nvmf.begin(), nvmf.end(), [](const json& e) {
        return e["method"] == "nvmf_set_max_subsystems";
    });
    ASSERT_NE(startup_only, nvmf.end());
    nvmf.erase(startup_only);
    EXPECT_EQ(json::parse(s4.output), expected);
    ASSERT_TRUE(tgt_.stop());
    std::filesystem::remove_all(work);
}

// The config SPDK's nvmf_tgt saved for the same topology (Malloc0 in
// nqn.2016-06.io.spdk:cnode1, listeners for it and discovery), with all its
// iobuf, sock, accel, bdev_nvme, raid, scheduler and nvmf_set_* entries.
TEST_F(spdk_rpc_py_test, SpdkReferenceConfigLoads) {
    const std::string ref = shared_file("spdk-peer/reference-config.json");
    if (ref.empty()) {
        const std::string why = std::string("SPDK's saved config not found at ") + NVMF_SOURCE_DIR +
                                "/../shared/spdk-peer/reference-config.json";
        std::fprintf(stderr, "%s\n", why.c_str());
        if (running_in_ci()) FAIL() << why << " (required when CI=true)";
        GTEST_SKIP() << why;
    }
    std::ifstream in(ref);
    json cfg = json::parse(in);
    // Its listeners are on 127.0.0.1:4420, which something else on this
    // machine may hold: they move to a free port; nothing else changes.
    const std::string port = std::to_string(pick_port());
    int moved = 0;
    for (auto& s : cfg["subsystems"]) {
        if (!s["config"].is_array()) continue;
        for (auto& e : s["config"]) {
            if (e.contains("params") && e["params"].contains("listen_address")) {
                e["params"]["listen_address"]["trsvcid"] = port;
                ++moved;
            }
        }
    }
    ASSERT_EQ(moved, 2);
    const std::string cnode1 = "nqn.2016-06.io.spdk:cnode1";

    ASSERT_TRUE(tgt_.start_json(cfg, port));
    {
        auto ctrlr = host::controller::create(tgt_.ctrlr_opts(cnode1));
        ASSERT_TRUE(ctrlr) << ctrlr.err().message;
        auto ns = (*ctrlr)->identify_ns(1);
        ASSERT_TRUE(ns) << ns.err().message;
        bdev::uuid_t nguid{};
        std::memcpy(nguid.data(), ns->nguid, nguid.size());
        EXPECT_EQ(bdev::uuid_to_string(nguid), "7ecad040-bcbf-475a-aa73-7034f5441f86");
    }
    const auto saved = rpc_py(tgt_, "save_config");
    ASSERT_EQ(saved.status, 0) << saved.output;
    EXPECT_NE(saved.output.find("\"serial_number\": \"SPDK001\""), std::string::npos);
    EXPECT_NE(saved.output.find("7ecad040-bcbf-475a-aa73-7034f5441f86"), std::string::npos);
    ASSERT_TRUE(tgt_.stop());

    // rpc.py load_config of the same file: everything before
    // framework_start_init, and into a running target all but the STARTUP
    // entries, which rpc.py reports as skipped (SPDK's nvmf_tgt does the same).
    const std::string path =
        ::testing::TempDir() + "/reference-" + std::to_string(::getpid()) + ".json";
    { std::ofstream(path) << cfg.dump(2); }
    ASSERT_TRUE(tgt_.start_json(nullptr, "", {"--wait-for-rpc"}));
    auto r = rpc_py(tgt_, "load_config -j " + sh_quote(path));
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(r.output, "");
    EXPECT_EQ(rpc_py(tgt_, "save_config").output, saved.output);
    ASSERT_TRUE(tgt_.stop());

    ASSERT_TRUE(tgt_.start_json(json{{"subsystems", json::array()}}, ""));
    r = rpc_py(tgt_, "load_config", path);
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("Some configs were skipped"), std::string::npos) << r.output;
    EXPECT_EQ(rpc_py(tgt_, "save_config").output, saved.output);
    ASSERT_TRUE(tgt_.stop());
    std::filesystem::remove(path);
}

}  // namespace
}  // namespace nvmf::test

namespace nvmf::test {
namespace {

size_t count_of(const std::string& text, const std::string& needle) {
    size_t n = 0;
    for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
    return n;
}

// log_set_level / log_set_print_level through rpc.py change what the running
// daemon logs: a failed command's debug line shows at DEBUG, not at ERROR.
TEST_F(spdk_rpc_py_test, LogLevelsChangeWhatIsLogged) {
    ASSERT_TRUE(tgt_.start(daemon_config::simple()));
    auto ctrlr = host::controller::create(tgt_.ctrlr_opts());
    ASSERT_TRUE(ctrlr) << ctrlr.err().message;
    std::vector<uint8_t> buf(512);
    const std::string line = "failed: sct";  // request.cpp's debug line of a failed command
    auto fail_a_command = [&] {
        auto r = (*ctrlr)->read(9, 0, 1, buf, 0);  // no namespace 9
        ASSERT_TRUE(r);
        ASSERT_FALSE(r->ok());
    };

    for (const char* c : {"log_set_level DEBUG", "log_set_print_level DEBUG"}) {
        const auto r = rpc_py(tgt_, c);
        ASSERT_EQ(r.status, 0) << c << ": " << r.output;
    }
    EXPECT_NE(rpc_py(tgt_, "log_get_level").output.find("DEBUG"), std::string::npos);
    EXPECT_NE(rpc_py(tgt_, "log_get_print_level").output.find("DEBUG"), std::string::npos);
    fail_a_command();
    EXPECT_TRUE(tgt_.log_shows(line)) << tgt_.log_tail();

    for (const char* c : {"log_set_level ERROR", "log_set_print_level ERROR"}) {
        const auto r = rpc_py(tgt_, c);
        ASSERT_EQ(r.status, 0) << c << ": " << r.output;
    }
    EXPECT_NE(rpc_py(tgt_, "log_get_level").output.find("ERROR"), std::string::npos);
    EXPECT_NE(rpc_py(tgt_, "log_get_print_level").output.find("ERROR"), std::string::npos);
    const size_t before = count_of(tgt_.log_tail(1 << 22), line);
    fail_a_command();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(count_of(tgt_.log_tail(1 << 22), line), before);

    // One DEBUG of the two lets debug lines out again (one output, stderr).
    ASSERT_EQ(rpc_py(tgt_, "log_set_print_level DEBUG").status, 0);
    fail_a_command();
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (count_of(tgt_.log_tail(1 << 22), line) == before &&
           std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(count_of(tgt_.log_tail(1 << 22), line), before + 1);
}

// framework_get_reactors: SPDK's shape, one reactor per core of the mask,
// busy and idle time that grow.
TEST_F(spdk_rpc_py_test, FrameworkGetReactors) {
    ASSERT_TRUE(tgt_.start(daemon_config::simple()));
    const auto r = rpc_py(tgt_, "framework_get_reactors");
    ASSERT_EQ(r.status, 0) << r.output;
    const json j = json::parse(r.output);
    EXPECT_EQ(j["tick_rate"], 1000000000u);
    ASSERT_FALSE(j["reactors"].empty());
    const json& first = j["reactors"][0];
    EXPECT_GT(first["busy"].get<uint64_t>() + first["idle"].get<uint64_t>(), 0u);
    ASSERT_EQ(first["lw_threads"].size(), 1u);
    EXPECT_EQ(first["lw_threads"][0]["name"], "nvmf_tgt_poll_group_000");
}

}  // namespace
}  // namespace nvmf::test
