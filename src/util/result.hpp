// result<T>: a value or an error message. Used on the control plane and at
// start-up, where errors must reach a JSON-RPC reply or the operator.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace nvmf {

struct error {
    int code = -1;  // a negative errno or JSON-RPC style code
    std::string message;
};

template <typename T>
class result {
public:
    result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
    result(error e) : v_(std::move(e)) {}      // NOLINT(google-explicit-constructor)
    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() { return std::get<0>(v_); }
    const T& value() const { return std::get<0>(v_); }
    T& operator*() { return value(); }
    T* operator->() { return &value(); }
    const error& err() const { return std::get<1>(v_); }

private:
    std::variant<T, error> v_;
};

template <>
class result<void> {
public:
    result() = default;
    result(error e) : ok_(false), e_(std::move(e)) {}  // NOLINT(google-explicit-constructor)
    bool ok() const { return ok_; }
    explicit operator bool() const { return ok_; }
    const error& err() const { return e_; }

private:
    bool ok_ = true;
    error e_;
};

inline error make_error(int code, std::string msg) { return error{code, std::move(msg)}; }

}  // namespace nvmf
