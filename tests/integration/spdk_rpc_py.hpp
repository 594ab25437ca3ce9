// SPDK's rpc.py, unchanged, as a client of the daemon: ../shared/spdk-rpc
// beside the source tree (CI has it there too). Tests that use it derive
// from rpc_py_test: without rpc.py they fail when CI=true and skip
// otherwise, saying why.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "daemon_fixture.hpp"

namespace nvmf::test {

// <repo>/../shared/NAME, normalised; empty when it does not exist.
inline std::string shared_file(const std::string& name) {
    std::error_code ec;
    const auto p = std::filesystem::weakly_canonical(
        std::filesystem::path(NVMF_SOURCE_DIR) / ".." / "shared" / name, ec);
    if (ec || !std::filesystem::exists(p)) return {};
    return p.string();
}

inline bool running_in_ci() {
    const char* ci = std::getenv("CI");
    return ci != nullptr && std::string(ci) == "true";
}

// Single quotes for the shell (and for shlex, which rpc.py --server uses).
inline std::string sh_quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\'') {
            out += "'\\''";
        } else {
            out += c;
        }
    }
    return out + "'";
}

struct rpc_py_result {
    int status = -1;     // rpc.py's exit status (0 ok)
    std::string output;  // stdout and stderr
};

// Expected outcomes of rpc.py command lines (tests/integration/test_spdk_rpc_py.cpp,
// rbd/test_rbd_bdev.cpp).
enum class outcome { ok, refused, ok_unless_no_rdma };

struct rpc_case {
    std::string line;  // rpc.py's arguments after -s SOCK
    outcome expect;
    std::string reason;  // refused: a piece of the error message
};

inline rpc_case ok(std::string line) { return {std::move(line), outcome::ok, ""}; }
inline rpc_case no(std::string line, std::string why) {
    return {std::move(line), outcome::refused, std::move(why)};
}

// Runs the cases and checks each outcome; returns the number that failed.
inline int check(const std::vector<rpc_case>& cases, const std::vector<rpc_py_result>& results) {
    int failed = 0;
    EXPECT_EQ(results.size(), cases.size()) << "rpc.py stopped early; its last output:\n"
                                            << (results.empty() ? "" : results.back().output);
    for (size_t i = 0; i < cases.size() && i < results.size(); ++i) {
        const auto& c = cases[i];
        const auto& r = results[i];
        bool good = false;
        switch (c.expect) {
        case outcome::ok:
            good = r.status == 0;
            break;
        case outcome::refused:
            good = r.status == 1 && r.output.find(c.reason) != std::string::npos;
            break;
        case outcome::ok_unless_no_rdma:
            good = r.status == 0 || r.output.find(c.reason) != std::string::npos;
            break;
        }
        if (!good) ++failed;
        // One line per command for the log: what rpc.py sent and what came back.
        std::string said = r.status == 0 ? "ok" : "status " + std::to_string(r.status);
        if (const auto m = r.output.find("\"message\": \""); m != std::string::npos) {
            said += ": " + r.output.substr(m + 12, r.output.find('"', m + 12) - (m + 12));
        }
        std::printf("rpc.py %s -> %s%s\n", c.line.c_str(), said.c_str(),
                    good ? "" : "  [UNEXPECTED]");
        EXPECT_TRUE(good) << "rpc.py " << c.line << "\nexpected "
                          << (c.expect == outcome::refused ? "a refusal naming '" + c.reason + "'"
                                                           : std::string("success"))
                          << ", got status " << r.status << ":\n"
                          << r.output;
    }
    return failed;
}

inline std::vector<std::string> lines_of(const std::vector<rpc_case>& cases) {
    std::vector<std::string> lines;
    lines.reserve(cases.size());
    for (const auto& c : cases) lines.push_back(c.line);
    return lines;
}

// The first word of a case line is the rpc.py command.
inline std::string command_of(const std::string& line) { return line.substr(0, line.find(' ')); }

inline bool line_has_option(const std::string& line, const std::string& spellings) {
    std::istringstream words(line);
    std::vector<std::string> forms;
    std::istringstream alt(spellings);
    for (std::string f; std::getline(alt, f, '|');) forms.push_back(f);
    for (std::string w; words >> w;) {
        for (const auto& f : forms) {
            if (w == f || w.rfind(f + "=", 0) == 0) return true;
        }
    }
    return false;
}

class rpc_py_test : public ::testing::Test {
protected:
    void SetUp() override {
        rpc_py_ = shared_file("spdk-rpc/scripts/rpc.py");
        if (rpc_py_.empty()) {
            const std::string why = std::string("SPDK's rpc.py not found at ") + NVMF_SOURCE_DIR +
                                    "/../shared/spdk-rpc/scripts/rpc.py";
            std::fprintf(stderr, "%s\n", why.c_str());
            if (running_in_ci()) FAIL() << why << " (required when CI=true)";
            GTEST_SKIP() << why;
        }
        const char* py = std::getenv("NVMF_PYTHON");
        python_ = py ? py : "python3";
    }

    // python3 rpc.py -s SOCK ARGS (ARGS already quoted for the shell).
    rpc_py_result rpc_py(const daemon& d, const std::string& args,
                         const std::string& stdin_file = "") {
        std::string cmd =
            python_ + " " + sh_quote(rpc_py_) + " -s " + sh_quote(d.rpc_path()) + " " + args;
        if (!stdin_file.empty()) cmd += " < " + sh_quote(stdin_file);
        rpc_py_result r;
        r.output = run_command(cmd + " 2>&1", &r.status);
        return r;
    }

    // Many rpc.py commands in one process (rpc.py --server: one command line
    // per line, each answered by its output and "**STATUS=0" or "=1").
    std::vector<rpc_py_result> rpc_py_many(const daemon& d, const std::vector<std::string>& lines) {
        const std::string script = d.dir() + "/rpc-py-commands.txt";
        {
            std::ofstream f(script);
            for (const auto& l : lines) f << "-s " << sh_quote(d.rpc_path()) << " " << l << "\n";
        }
        int rc = 0;
        const std::string out = run_command(
            python_ + " " + sh_quote(rpc_py_) + " --server < " + sh_quote(script) + " 2>&1", &rc);
        std::vector<rpc_py_result> results;
        std::string chunk;
        std::istringstream in(out);
        for (std::string line; std::getline(in, line);) {
            if (line.rfind("**STATUS=", 0) == 0) {
                results.push_back({std::atoi(line.c_str() + 9), chunk});
                chunk.clear();
            } else {
                chunk += line + "\n";
            }
        }
        // rpc.py died (a traceback): what it printed goes with the next command.
        if (!chunk.empty()) results.push_back({-1, chunk});
        return results;
    }

    // {"method": ["--option", ...]} for every rpc.py command: the options its
    // argparse parser defines (each entry lists an option's spellings, joined by '|').
    nlohmann::json rpc_py_options() {
        const std::string script =
            ::testing::TempDir() + "/rpc-py-options-" + std::to_string(::getpid()) + ".py";
        {
            std::ofstream f(script);
            f << R"(import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("spdk_rpc_main", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
parser, sub = mod.create_parser()
out = {}
for name, p in sub.choices.items():
    out[name] = ["|".join(a.option_strings) for a in p._actions
                 if a.option_strings and "-h" not in a.option_strings]
json.dump(out, sys.stdout)
)";
        }
        int rc = 0;
        const std::string out =
            run_command(python_ + " " + sh_quote(script) + " " + sh_quote(rpc_py_), &rc);
        std::filesystem::remove(script);
        if (rc != 0 || !nlohmann::json::accept(out)) return nullptr;
        return nlohmann::json::parse(out);
    }

    std::string rpc_py_;
    std::string python_;
};

}  // namespace nvmf::test
