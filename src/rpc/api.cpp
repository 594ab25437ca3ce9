// include/nvmf/api.hpp: the embedding API. Operations are jobs on one control
// thread that call the synchronous core (or the RPC method table, so that
// validation and side effects match the JSON-RPC methods exactly).
#include "nvmf/api.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "nvmf/target.hpp"
#include "reactor/reactor.hpp"
#include "rpc/methods.hpp"

namespace nvmf::api {

using json = nlohmann::json;

struct target_handle::impl {
    std::unique_ptr<reactor_group> reactors;
    std::unique_ptr<nvmf::target> tgt;

    std::mutex mtx;
    std::condition_variable cv;
    std::deque<std::function<void()>> jobs;
    bool stopping = false;
    bool shut_down = false;  // control thread only
    std::thread worker;

    void post(std::function<void()> job) {
        {
            std::lock_guard lk(mtx);
            jobs.push_back(std::move(job));
        }
        cv.notify_one();
    }

    void run() {
        for (;;) {
            std::function<void()> job;
            {
                std::unique_lock lk(mtx);
                cv.wait(lk, [&] { return stopping || !jobs.empty(); });
                if (jobs.empty()) return;
                job = std::move(jobs.front());
                jobs.pop_front();
            }
            job();
        }
    }

    void do_shutdown() {
        if (shut_down) return;
        shut_down = true;
        tgt->shutdown();
        reactors->stop();
    }

    // Runs op on the control thread and hands its result to cb there.
    template <typename T, typename Op>
    void submit(callback<T> cb, Op op) {
        post([this, cb = std::move(cb), op = std::move(op)]() mutable {
            result<T> r =
                shut_down ? result<T>(make_error(-ESHUTDOWN, "the target is shut down")) : op();
            if (cb) cb(std::move(r));
        });
    }

    result<void> rpc_void(const char* method, const json& params) {
        rpc::context ctx(*tgt);
        auto r = rpc::call(ctx, method, params);
        if (!r) return r.err();
        return {};
    }
};

namespace {
template <typename T, typename Start>
std::future<result<T>> as_future(Start start) {
    auto p = std::make_shared<std::promise<result<T>>>();
    auto f = p->get_future();
    start([p](result<T> r) { p->set_value(std::move(r)); });
    return f;
}
}  // namespace

result<std::unique_ptr<target_handle>> target_handle::create(const target_options& opts) {
    std::vector<int> cpus;
    if (!opts.cpumask.empty()) {
        std::string why;
        cpus = parse_cpumask(opts.cpumask, &why);
        if (cpus.empty()) return make_error(-EINVAL, why);
    }
    auto p = std::make_unique<impl>();
    p->reactors = std::make_unique<reactor_group>(cpus);
    p->tgt = std::make_unique<nvmf::target>(*p->reactors);
    p->reactors->start();
    impl* raw = p.get();
    p->worker = std::thread([raw] { raw->run(); });
    return std::unique_ptr<target_handle>(new target_handle(std::move(p)));
}

target_handle::target_handle(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

target_handle::~target_handle() {
    // Must not be destroyed from one of its own callbacks (the control thread).
    shutdown().wait();
    {
        std::lock_guard lk(impl_->mtx);
        impl_->stopping = true;
    }
    impl_->cv.notify_one();
    impl_->worker.join();
    impl_->tgt.reset();
    impl_->reactors.reset();
}

nvmf::target& target_handle::core() { return *impl_->tgt; }

// ------------------------------------------------------------- callbacks

void target_handle::create_transport(const transport_options& opts, callback<transport_ptr> cb) {
    impl_->submit<transport_ptr>(std::move(cb), [this, opts]() -> result<transport_ptr> {
        auto t = nvmf::create_transport(*impl_->tgt, opts);
        if (!t) return t.err();
        return std::move(*t);
    });
}

void target_handle::add_transport(transport_ptr t, callback<void> cb) {
    auto holder = std::make_shared<transport_ptr>(std::move(t));
    impl_->submit<void>(std::move(cb), [this, holder]() -> result<void> {
        if (!*holder) return make_error(-EINVAL, "no transport given");
        if (&(*holder)->tgt() != impl_->tgt.get()) {
            return make_error(-EINVAL, "the transport was created for another target");
        }
        return impl_->tgt->add_transport(std::move(*holder));
    });
}

void target_handle::create_subsystem(const std::string& nqn, const subsystem_params& params,
                                     callback<void> cb) {
    impl_->submit<void>(std::move(cb), [this, nqn, params]() -> result<void> {
        auto s = impl_->tgt->create_subsystem(nqn, params);
        if (!s) return s.err();
        return {};
    });
}

void target_handle::delete_subsystem(const std::string& nqn, callback<void> cb) {
    impl_->submit<void>(std::move(cb), [this, nqn] { return impl_->tgt->delete_subsystem(nqn); });
}

void target_handle::start_subsystem(const std::string& nqn, callback<void> cb) {
    impl_->submit<void>(std::move(cb), [this, nqn] { return impl_->tgt->start_subsystem(nqn); });
}

void target_handle::stop_subsystem(const std::string& nqn, callback<void> cb) {
    impl_->submit<void>(std::move(cb), [this, nqn] { return impl_->tgt->stop_subsystem(nqn); });
}

void target_handle::add_host(const std::string& nqn, const std::string& hostnqn,
                             callback<void> cb) {
    impl_->submit<void>(std::move(cb), [this, nqn, hostnqn] {
        return impl_->rpc_void("nvmf_subsystem_add_host", {{"nqn", nqn}, {"host", hostnqn}});
    });
}

void target_handle::remove_host(const std::string& nqn, const std::string& hostnqn,
                                callback<void> cb) {
    impl_->submit<void>(std::move(cb), [this, nqn, hostnqn] {
        return impl_->rpc_void("nvmf_subsystem_remove_host", {{"nqn", nqn}, {"host", hostnqn}});
    });
}

void target_handle::allow_any_host(const std::string& nqn, bool allow, callback<void> cb) {
    impl_->submit<void>(std::move(cb), [this, nqn, allow] {
        return impl_->rpc_void("nvmf_subsystem_allow_any_host",
                               {{"nqn", nqn}, {"allow_any_host", allow}});
    });
}

void target_handle::create_malloc_bdev(const std::string& name, uint64_t num_blocks,
                                       uint32_t block_size, callback<void> cb) {
    impl_->submit<void>(std::move(cb), [this, name, num_blocks, block_size] {
        return impl_->rpc_void(
            "bdev_malloc_create",
            {{"name", name}, {"num_blocks", num_blocks}, {"block_size", block_size}});
    });
}

void target_handle::create_null_bdev(const std::string& name, uint64_t num_blocks,
                                     uint32_t block_size, callback<void> cb) {
    impl_->submit<void>(std::move(cb), [this, name, num_blocks, block_size] {
        return impl_->rpc_void(
            "bdev_null_create",
            {{"name", name}, {"num_blocks", num_blocks}, {"block_size", block_size}});
    });
}

void target_handle::delete_bdev(const std::string& name, callback<void> cb) {
    impl_->submit<void>(std::move(cb), [this, name] { return impl_->tgt->bdevs.remove(name); });
}

namespace {
void add_ns(target_handle::impl& impl, const std::string& nqn, const std::string& bdev_name,
            uint32_t nsid, bool no_auto_visible, callback<uint32_t> cb) {
    impl.submit<uint32_t>(std::move(cb),
                          [&impl, nqn, bdev_name, nsid, no_auto_visible]() -> result<uint32_t> {
                              rpc::context ctx(*impl.tgt);
                              auto r = rpc::call(ctx, "nvmf_subsystem_add_ns",
                                                 {{"nqn", nqn},
                                                  {"namespace",
                                                   {{"bdev_name", bdev_name},
                                                    {"nsid", nsid},
                                                    {"no_auto_visible", no_auto_visible}}}});
                              if (!r) return r.err();
                              return r->get<uint32_t>();
                          });
}
}  // namespace

void target_handle::add_namespace(const std::string& nqn, const std::string& bdev_name,
                                  uint32_t nsid, callback<uint32_t> cb) {
    add_ns(*impl_, nqn, bdev_name, nsid, false, std::move(cb));
}

void target_handle::add_masked_namespace(const std::string& nqn, const std::string& bdev_name,
                                         uint32_t nsid, callback<uint32_t> cb) {
    add_ns(*impl_, nqn, bdev_name, nsid, true, std::move(cb));
}

void target_handle::add_namespace_host(const std::string& nqn, uint32_t nsid,
                                       const std::string& hostnqn, callback<void> cb) {
    impl_->submit<void>(std::move(cb), [this, nqn, nsid, hostnqn] {
        return impl_->rpc_void("nvmf_ns_add_host",
                               {{"nqn", nqn}, {"nsid", nsid}, {"host", hostnqn}});
    });
}

void target_handle::remove_namespace_host(const std::string& nqn, uint32_t nsid,
                                          const std::string& hostnqn, callback<void> cb) {
    impl_->submit<void>(std::move(cb), [this, nqn, nsid, hostnqn] {
        return impl_->rpc_void("nvmf_ns_remove_host",
                               {{"nqn", nqn}, {"nsid", nsid}, {"host", hostnqn}});
    });
}

void target_handle::remove_namespace(const std::string& nqn, uint32_t nsid, callback<void> cb) {
    impl_->submit<void>(std::move(cb), [this, nqn, nsid] {
        return impl_->rpc_void("nvmf_subsystem_remove_ns", {{"nqn", nqn}, {"nsid", nsid}});
    });
}

void target_handle::add_listener(const std::string& nqn, const transport_id& trid,
                                 callback<void> cb) {
    impl_->submit<void>(std::move(cb),
                        [this, nqn, trid] { return impl_->tgt->add_listener(nqn, trid); });
}

void target_handle::remove_listener(const std::string& nqn, const transport_id& trid,
                                    callback<void> cb) {
    impl_->submit<void>(std::move(cb),
                        [this, nqn, trid] { return impl_->tgt->remove_listener(nqn, trid); });
}

void target_handle::listen(const transport_id& trid, callback<void> cb) {
    impl_->submit<void>(std::move(cb), [this, trid]() -> result<void> {
        auto t = normalize_trid(trid);
        if (!t) return t.err();
        return impl_->tgt->listen(*t);
    });
}

void target_handle::rpc(const std::string& method, const json& params, callback<json> cb) {
    impl_->submit<json>(std::move(cb), [this, method, params] {
        rpc::context ctx(*impl_->tgt);
        return rpc::call(ctx, method, params);
    });
}

void target_handle::shutdown(callback<void> cb) {
    impl_->post([this, cb = std::move(cb)] {
        impl_->do_shutdown();
        if (cb) cb(result<void>());
    });
}

// ------------------------------------------------------------- futures

std::future<result<transport_ptr>> target_handle::create_transport(const transport_options& opts) {
    return as_future<transport_ptr>(
        [&](callback<transport_ptr> cb) { create_transport(opts, std::move(cb)); });
}
std::future<result<void>> target_handle::add_transport(transport_ptr t) {
    return as_future<void>([&](callback<void> cb) { add_transport(std::move(t), std::move(cb)); });
}
std::future<result<void>> target_handle::create_subsystem(const std::string& nqn,
                                                          const subsystem_params& params) {
    return as_future<void>(
        [&](callback<void> cb) { create_subsystem(nqn, params, std::move(cb)); });
}
std::future<result<void>> target_handle::delete_subsystem(const std::string& nqn) {
    return as_future<void>([&](callback<void> cb) { delete_subsystem(nqn, std::move(cb)); });
}
std::future<result<void>> target_handle::start_subsystem(const std::string& nqn) {
    return as_future<void>([&](callback<void> cb) { start_subsystem(nqn, std::move(cb)); });
}
std::future<result<void>> target_handle::stop_subsystem(const std::string& nqn) {
    return as_future<void>([&](callback<void> cb) { stop_subsystem(nqn, std::move(cb)); });
}
std::future<result<void>> target_handle::add_host(const std::string& nqn,
                                                  const std::string& hostnqn) {
    return as_future<void>([&](callback<void> cb) { add_host(nqn, hostnqn, std::move(cb)); });
}
std::future<result<void>> target_handle::remove_host(const std::string& nqn,
                                                     const std::string& hostnqn) {
    return as_future<void>([&](callback<void> cb) { remove_host(nqn, hostnqn, std::move(cb)); });
}
std::future<result<void>> target_handle::allow_any_host(const std::string& nqn, bool allow) {
    return as_future<void>([&](callback<void> cb) { allow_any_host(nqn, allow, std::move(cb)); });
}
std::future<result<void>> target_handle::create_malloc_bdev(const std::string& name,
                                                            uint64_t num_blocks,
                                                            uint32_t block_size) {
    return as_future<void>([&](callback<void> cb) {
        create_malloc_bdev(name, num_blocks, block_size, std::move(cb));
    });
}
std::future<result<void>> target_handle::create_null_bdev(const std::string& name,
                                                          uint64_t num_blocks,
                                                          uint32_t block_size) {
    return as_future<void>(
        [&](callback<void> cb) { create_null_bdev(name, num_blocks, block_size, std::move(cb)); });
}
std::future<result<void>> target_handle::delete_bdev(const std::string& name) {
    return as_future<void>([&](callback<void> cb) { delete_bdev(name, std::move(cb)); });
}
std::future<result<uint32_t>> target_handle::add_namespace(const std::string& nqn,
                                                           const std::string& bdev_name,
                                                           uint32_t nsid) {
    return as_future<uint32_t>(
        [&](callback<uint32_t> cb) { add_namespace(nqn, bdev_name, nsid, std::move(cb)); });
}
std::future<result<void>> target_handle::remove_namespace(const std::string& nqn, uint32_t nsid) {
    return as_future<void>([&](callback<void> cb) { remove_namespace(nqn, nsid, std::move(cb)); });
}
std::future<result<uint32_t>> target_handle::add_masked_namespace(const std::string& nqn,
                                                                  const std::string& bdev_name,
                                                                  uint32_t nsid) {
    return as_future<uint32_t>(
        [&](callback<uint32_t> cb) { add_masked_namespace(nqn, bdev_name, nsid, std::move(cb)); });
}
std::future<result<void>> target_handle::add_namespace_host(const std::string& nqn, uint32_t nsid,
                                                            const std::string& hostnqn) {
    return as_future<void>(
        [&](callback<void> cb) { add_namespace_host(nqn, nsid, hostnqn, std::move(cb)); });
}
std::future<result<void>> target_handle::remove_namespace_host(const std::string& nqn,
                                                               uint32_t nsid,
                                                               const std::string& hostnqn) {
    return as_future<void>(
        [&](callback<void> cb) { remove_namespace_host(nqn, nsid, hostnqn, std::move(cb)); });
}
std::future<result<void>> target_handle::add_listener(const std::string& nqn,
                                                      const transport_id& trid) {
    return as_future<void>([&](callback<void> cb) { add_listener(nqn, trid, std::move(cb)); });
}
std::future<result<void>> target_handle::remove_listener(const std::string& nqn,
                                                         const transport_id& trid) {
    return as_future<void>([&](callback<void> cb) { remove_listener(nqn, trid, std::move(cb)); });
}
std::future<result<void>> target_handle::listen(const transport_id& trid) {
    return as_future<void>([&](callback<void> cb) { listen(trid, std::move(cb)); });
}
std::future<result<json>> target_handle::rpc(const std::string& method, const json& params) {
    return as_future<json>([&](callback<json> cb) { rpc(method, params, std::move(cb)); });
}
std::future<result<void>> target_handle::shutdown() {
    return as_future<void>([&](callback<void> cb) { shutdown(std::move(cb)); });
}

}  // namespace nvmf::api
