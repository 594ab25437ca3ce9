#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets: well-formed NVMe/TCP sessions
and commands, so the fuzzers start from deep inside the protocol.
Run from the repository root: tests/fuzz/make_seeds.py"""
import json
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
NQN = b"nqn.2026-11.io.nvmf-target:fuzz"
HOSTNQN = b"nqn.2014-08.org.nvmexpress:uuid:6b1e2a4c-0d7f-4e35-9a51-1f3c2b8d9e70"


def crc32c(data):
    # Bitwise CRC32C (Castagnoli), reflected, init/xorout 0xffffffff.
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def ch(ptype, flags, hlen, pdo, plen):
    return struct.pack("<BBBBI", ptype, flags, hlen, pdo, plen)


def icreq(dgst=0):
    body = struct.pack("<HBBI", 0, 0, dgst, 0) + bytes(112)
    return ch(0, 0, 128, 0, 128) + body


def sqe(opc, cid, nsid=0, sgl=b"", cdw10=0, cdw11=0, cdw12=0, flags=0x40, raw40=None):
    if not sgl:
        sgl = struct.pack("<QI3sB", 0, 0, b"\0\0\0", 0x5A)
    tail = raw40 if raw40 is not None else struct.pack("<IIIIII", cdw10, cdw11, cdw12, 0, 0, 0)
    return struct.pack("<BBHIIIQ", opc, flags, cid, nsid, 0, 0, 0) + sgl + tail


def capsule(cmd, data=b"", hd=False, dd=False):
    flags = (1 if hd else 0) | (2 if dd and data else 0)
    hlen = 72
    hw = hlen + (4 if hd else 0)
    plen = hw + len(data) + (4 if dd and data else 0)
    pdo = hw if data else 0
    hdr = ch(4, flags, hlen, pdo, plen) + cmd
    out = hdr + (struct.pack("<I", crc32c(hdr)) if hd else b"")
    if data:
        out += data + (struct.pack("<I", crc32c(data)) if dd else b"")
    return out


def icd_sgl(n):
    return struct.pack("<QI3sB", 0, n, b"\0\0\0", 0x01)


def xport_sgl(n):
    return struct.pack("<QI3sB", 0, n, b"\0\0\0", 0x5A)


def connect(cid, qid, sqsize, cntlid=0xFFFF, kato=0, subnqn=NQN, hostnqn=HOSTNQN):
    fabric = struct.pack("<HHHBBI", 0, qid, sqsize, 0, 0, kato) + bytes(12)
    cmd = struct.pack("<BBHB", 0x7F, 0x40, cid, 0x01) + bytes(19) + icd_sgl(1024) + fabric
    data = bytes(16) + struct.pack("<H", cntlid) + bytes(238)
    data += subnqn.ljust(256, b"\0") + hostnqn.ljust(256, b"\0") + bytes(256)
    return cmd, data


def prop_set(cid, ofst, value):
    return struct.pack("<BBHB", 0x7F, 0x40, cid, 0x00) + bytes(19) + xport_sgl(0) + \
        struct.pack("<B3sIQ8s", 0, b"\0\0\0", ofst, value, bytes(8))


def prop_get(cid, ofst, size8):
    return struct.pack("<BBHB", 0x7F, 0x40, cid, 0x04) + bytes(19) + xport_sgl(0) + \
        struct.pack("<B3sI16s", 1 if size8 else 0, b"\0\0\0", ofst, bytes(16))


def chunked(stream):
    # The harness reads a length byte before each chunk: 255 -> 2041 bytes.
    out = b""
    i = 0
    while i < len(stream):
        out += bytes([255]) + stream[i:i + 2041]
        i += 2041
    return out


def admin_session(hd=False, dd=False, subnqn=NQN, hostnqn=HOSTNQN):
    s = icreq((1 if hd else 0) | (2 if dd else 0))
    cmd, data = connect(1, 0, 31, kato=5000, subnqn=subnqn, hostnqn=hostnqn)
    s += capsule(cmd, data, hd, dd)
    s += capsule(prop_get(2, 0x0, True), hd=hd, dd=dd)
    s += capsule(prop_set(3, 0x14, 0x460001), hd=hd, dd=dd)
    s += capsule(prop_get(4, 0x1C, False), hd=hd, dd=dd)
    s += capsule(sqe(0x06, 5, sgl=xport_sgl(4096), cdw10=1), hd=hd, dd=dd)         # identify ctrlr
    s += capsule(sqe(0x06, 6, nsid=1, sgl=xport_sgl(4096), cdw10=0), hd=hd, dd=dd)  # identify ns
    s += capsule(sqe(0x06, 7, sgl=xport_sgl(4096), cdw10=2), hd=hd, dd=dd)         # active ns list
    s += capsule(sqe(0x06, 8, nsid=1, sgl=xport_sgl(4096), cdw10=3), hd=hd, dd=dd)  # ns descriptors
    s += capsule(sqe(0x02, 9, sgl=xport_sgl(512), cdw10=(127 << 16) | 2), hd=hd, dd=dd)  # SMART
    s += capsule(sqe(0x0A, 10, cdw10=7), hd=hd, dd=dd)                              # get num queues
    s += capsule(sqe(0x09, 11, cdw10=7, cdw11=0x00030003), hd=hd, dd=dd)            # set num queues
    s += capsule(sqe(0x0C, 12), hd=hd, dd=dd)                                       # AER
    s += capsule(sqe(0x18, 13), hd=hd, dd=dd)                                       # keep alive
    s += capsule(sqe(0x08, 14, cdw10=12 << 16), hd=hd, dd=dd)                       # abort the AER
    s += capsule(prop_set(15, 0x14, 0x464001), hd=hd, dd=dd)                        # shutdown
    return s


def discovery_session():
    s = icreq()
    cmd, data = connect(1, 0, 31)
    data = data[:256] + b"nqn.2014-08.org.nvmexpress.discovery".ljust(256, b"\0") + data[512:]
    s += capsule(cmd, data)
    s += capsule(prop_set(2, 0x14, 0x460001))
    s += capsule(sqe(0x06, 3, sgl=xport_sgl(4096), cdw10=1))
    s += capsule(sqe(0x02, 4, sgl=xport_sgl(1024), cdw10=(255 << 16) | 0x70))
    s += capsule(sqe(0x02, 5, sgl=xport_sgl(4096), cdw10=(1023 << 16) | 0x70))
    return s


TLS_NQN = b"nqn.2026-11.io.nvmf-target:fuzz-tls"
TLS_HOST = b"nqn.2026-11.io.nvmf-target:fuzz-host"


def client_hello(identity, suite=0x1301):
    """A TLS 1.3 ClientHello offering one external PSK (identity, a binder of
    zeros): enough for the target to look the identity up before the binder
    check fails."""
    def ext(t, body):
        return struct.pack(">HH", t, len(body)) + body
    exts = ext(43, b"\x02\x03\x04")                                   # supported_versions: 1.3
    exts += ext(10, b"\x00\x02\x00\x1d")                               # supported_groups: x25519
    exts += ext(51, struct.pack(">HHH", 36, 0x1d, 32) + bytes(range(32)))  # key_share
    exts += ext(13, b"\x00\x02\x08\x04")                               # signature_algorithms
    exts += ext(45, b"\x01\x01")                                       # psk_dhe_ke
    hlen = 32 if suite == 0x1301 else 48
    ids = struct.pack(">H", len(identity)) + identity + struct.pack(">I", 0)
    binders = bytes([hlen]) + bytes(hlen)
    exts += ext(41, struct.pack(">H", len(ids)) + ids + struct.pack(">H", len(binders)) + binders)
    body = b"\x03\x03" + bytes(32) + b"\x20" + bytes(32)                 # version, random, session id
    body += struct.pack(">HH", 2, suite) + b"\x01\x00"                   # one suite, no compression
    body += struct.pack(">H", len(exts)) + exts
    hs = b"\x01" + struct.pack(">I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack(">H", len(hs)) + hs


def tls_seeds():
    # First byte: the mode (0 raw, 1 TLS then PDUs, 2 TLS then raw, 3 parsers);
    # modes 1 and 2 then take an option byte (bit 0: the 48-byte key and its
    # host, fuzz-host2; bit 1: NVMe1R; bit 2: a host the target does not know).
    session = chunked(admin_session(subnqn=TLS_NQN, hostnqn=TLS_HOST))
    session2 = chunked(admin_session(subnqn=TLS_NQN, hostnqn=TLS_HOST + b"2"))
    v0 = b"NVMe0R01 " + TLS_HOST + b" " + TLS_NQN
    return {
        "tls-admin": bytes([1, 0]) + session,
        "tls-admin-sha384-v1": bytes([1, 3]) + session2,
        "tls-stranger": bytes([1, 4]) + session,
        "tls-then-forged-record": bytes([2, 0]) + chunked(b"\x17\x03\x03\x00\x20" + bytes(32)),
        "raw-client-hello": bytes([0]) + chunked(client_hello(v0)),
        "raw-client-hello-sha384": bytes([0]) + chunked(
            client_hello(b"NVMe0R02 " + TLS_HOST + b"2 " + TLS_NQN, 0x1302)),
        "raw-client-hello-unknown": bytes([0]) + chunked(client_hello(b"NVMe0R01 a b")),
        "raw-icreq": bytes([0]) + chunked(icreq()),
        "tls-generated-psk": bytes([1, 8]) + session,
        "raw-client-hello-generated": bytes([0]) + chunked(
            client_hello(b"NVMe1G01 " + TLS_HOST + b" " + TLS_NQN + b" AAAA")),
        "concat-listener-icreq": bytes([0x10]) + chunked(admin_session(subnqn=TLS_NQN,
                                                                        hostnqn=TLS_HOST)),
        "identity-v0": bytes([3]) + v0,
        "identity-generated": bytes([3]) + b"NVMe1G02 " + TLS_HOST + b" " + TLS_NQN + b" AAAA",
        "identity-v1": bytes([3]) + b"NVMe1R01 " + TLS_HOST + b" " + TLS_NQN + b" AAAA",
        "interchange": bytes([3]) + b"NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:",
    }


def write_seeds(name, seeds):
    d = os.path.join(HERE, "corpus", name)
    os.makedirs(d, exist_ok=True)
    for label, data in seeds.items():
        with open(os.path.join(d, "seed-" + label), "wb") as f:
            f.write(data)


def rpc(method, params=None, rid=1):
    req = {"jsonrpc": "2.0", "method": method, "id": rid}
    if params is not None:
        req["params"] = params
    return json.dumps(req).encode()


def rpc_seeds():
    """JSON-RPC fuzzer input: the byte stream a client writes to the socket.
    Listeners use 127.0.0.1 only (the fuzzer skips any other traddr)."""
    sub = "nqn.2016-06.io.spdk:cnode1"
    addr = {"trtype": "TCP", "adrfam": "IPv4", "traddr": "127.0.0.1", "trsvcid": "61999"}
    setup = [
        rpc("bdev_malloc_create", {"name": "Malloc0", "num_blocks": 2048, "block_size": 512}, 1),
        rpc("bdev_null_create", {"name": "Null0", "num_blocks": 1024, "block_size": 4096}, 2),
        rpc("nvmf_create_transport", {"trtype": "TCP", "io_unit_size": 8192,
                                      "max_queue_depth": 64, "num_shared_buffers": 16}, 3),
        rpc("nvmf_create_subsystem", {"nqn": sub, "allow_any_host": False,
                                      "serial_number": "SPDK001", "max_namespaces": 4}, 4),
        rpc("nvmf_subsystem_add_ns", {"nqn": sub, "namespace": {"bdev_name": "Malloc0"}}, 5),
        rpc("nvmf_subsystem_add_ns", {"nqn": sub, "namespace": {"bdev_name": "Null0", "nsid": 3}}, 6),
        rpc("nvmf_subsystem_add_host", {"nqn": sub, "host": "nqn.2014-08.org.nvmexpress:uuid:1"}, 7),
        rpc("nvmf_subsystem_add_listener", {"nqn": sub, "listen_address": addr}, 8),
    ]
    queries = [
        rpc("bdev_get_bdevs", {"name": "Malloc0"}, 9),
        rpc("nvmf_get_subsystems", None, 10),
        rpc("nvmf_get_transports", {"trtype": "tcp"}, 11),
        rpc("nvmf_subsystem_get_listeners", {"nqn": sub}, 12),
        rpc("nvmf_subsystem_get_controllers", {"nqn": sub}, 13),
        rpc("nvmf_subsystem_get_qpairs", {"nqn": sub}, 14),
        rpc("save_config", None, 15),
    ]
    teardown = [
        rpc("nvmf_subsystem_remove_listener", {"nqn": sub, "listen_address": addr}, 16),
        rpc("nvmf_subsystem_remove_ns", {"nqn": sub, "nsid": 1}, 17),
        rpc("nvmf_subsystem_remove_host", {"nqn": sub, "host": "nqn.2014-08.org.nvmexpress:uuid:1"}, 18),
        rpc("nvmf_subsystem_allow_any_host", {"nqn": sub, "allow_any_host": True}, 19),
        rpc("nvmf_delete_subsystem", {"nqn": sub}, 20),
        rpc("bdev_malloc_delete", {"name": "Malloc0"}, 21),
        rpc("bdev_null_delete", {"name": "Null0"}, 22),
    ]
    return {
        "setup": b"\n".join(setup),
        "setup-query-teardown": b"\n".join(setup + queries + teardown),
        "back-to-back": b"".join(setup[:4] + queries[:2]),
        "batch": b"[" + b",".join(setup[:3] + [rpc("spdk_get_version", None, 30)]) + b"]",
        "notification": b'{"jsonrpc":"2.0","method":"bdev_malloc_create",'
                        b'"params":{"num_blocks":8,"block_size":4096}}',
        "methods": rpc("rpc_get_methods", {"current": True}) + rpc("framework_start_init") +
        rpc("bdev_wait_for_examine"),
        "bad-requests": b'{"jsonrpc":"1.0","method":"x","id":1}{"id":{},"method":1}'
                        b'{"jsonrpc":"2.0","method":"nvmf_get_subsystems","params":[1],"id":"a"}'
                        b'{"jsonrpc":"2.0","method":"no_such","id":null}[]',
        "escapes": b'{"jsonrpc":"2.0","id":"\\"}{[","method":"bdev_malloc_create",'
                   b'"params":{"name":"\\u00e9\\ud83d\\ude00","num_blocks":1,"block_size":512}}',
        "parse-error": b'{"jsonrpc":"2.0","method":"save_config","id":1,}',
        "not-an-object": b'"hello"',
        # Keys: a file that is no key, a missing one; DH-HMAC-CHAP settings.
        "keyring-auth": b"\n".join(setup + [
            rpc("keyring_file_add_key", {"name": "key0", "path": "/nonexistent/key0"}, 40),
            rpc("keyring_file_add_key", {"name": "key1", "path": "relative"}, 41),
            rpc("keyring_get_keys", None, 42),
            rpc("keyring_file_remove_key", {"name": "key0"}, 43),
            rpc("nvmf_subsystem_add_host", {"nqn": sub, "host": "nqn.2014-08.org.nvmexpress:uuid:2",
                                            "dhchap_key": "key0", "dhchap_ctrlr_key": "key1"}, 44),
            rpc("nvmf_subsystem_set_keys", {"nqn": sub, "host": "nqn.2014-08.org.nvmexpress:uuid:1",
                                            "dhchap_key": "key0"}, 45),
            rpc("nvmf_set_config", {"dhchap_digests": ["sha384", "sha512"],
                                    "dhchap_dhgroups": ["null", "ffdhe3072"]}, 46),
            rpc("nvmf_set_config", {"dhchap_digests": ["md5"]}, 47),
            rpc("save_config", None, 48),
        ]),
        # What SPDK's rpc.py sends, defaults included, and its save_config.
        "rpc-py": b"\n".join([
            rpc("nvmf_create_transport", {"trtype": "TCP", "no_srq": False, "c2h_success": True,
                                          "zcopy": False, "dif_insert_or_strip": False,
                                          "no_wr_batching": False, "disable_mappable_bar0": False,
                                          "disable_adaptive_irq": False,
                                          "disable_shadow_doorbells": False,
                                          "disable_command_passthru": False, "kas": 100,
                                          "min_kato": 10000, "masked_oncs": []}, 1),
            rpc("bdev_malloc_create", {"num_blocks": 2048, "block_size": 512,
                                       "md_interleave": False, "dif_is_head_of_md": False}, 2),
            rpc("nvmf_create_subsystem", {"nqn": sub, "allow_any_host": False, "ana_reporting": True,
                                          "passthrough": False, "enable_nssr": False,
                                          "dmrsl": 1024, "wzsl": 6}, 3),
            rpc("nvmf_subsystem_add_ns", {"nqn": sub, "namespace": {
                "bdev_name": "Malloc0", "nsid": 2, "no_auto_visible": False,
                "hide_metadata": False}}, 4),
            rpc("nvmf_subsystem_add_listener", {"nqn": sub, "secure_channel": False,
                                                "listen_address": addr, "numa_id": -1}, 5),
            rpc("nvmf_subsystem_get_listeners", {"nqn": sub}, 6),
            rpc("framework_get_subsystems", None, 7),
            rpc("framework_get_config", {"name": "bdev", "with_batches": False}, 8),
            rpc("framework_get_config", {"name": "nvmf", "with_batches": False}, 9),
            rpc("bdev_nvme_set_hotplug", {"enable": False, "period_us": 1000}, 10),
        ]),
        # Delay bdevs (bdev_delay_*): a claim on Malloc0, a namespace on the
        # delay bdev, latency changes, errors (p99 below average, bad type).
        "delay": b"\n".join(setup[:4] + [
            rpc("bdev_delay_create", {"base_bdev_name": "Null0", "name": "Delay0",
                                      "avg_read_latency": 100, "p99_read_latency": 1000,
                                      "avg_write_latency": 200, "p99_write_latency": 2000}, 50),
            rpc("bdev_delay_create", {"base_bdev_name": "Null0", "name": "Delay1",
                                      "uuid": "aaaabbbb-cccc-4ddd-8eee-ffff00001111",
                                      "avg_read_latency": 100, "p99_read_latency": 10,
                                      "avg_write_latency": 0, "p99_write_latency": 0}, 51),
            rpc("nvmf_subsystem_add_ns", {"nqn": sub, "namespace": {"bdev_name": "Delay0"}}, 52),
            rpc("nvmf_subsystem_add_ns", {"nqn": sub, "namespace": {"bdev_name": "Null0"}}, 53),
            rpc("bdev_delay_update_latency", {"delay_bdev_name": "Delay0",
                                              "latency_type": "p99_write", "latency_us": 5}, 54),
            rpc("bdev_delay_update_latency", {"delay_bdev_name": "Delay0",
                                              "latency_type": "avg", "latency_us": 5}, 55),
            rpc("bdev_get_bdevs", None, 56),
            rpc("save_config", None, 57),
            rpc("bdev_delay_delete", {"name": "Delay0"}, 58),
            rpc("nvmf_subsystem_remove_ns", {"nqn": sub, "nsid": 1}, 59),
            rpc("bdev_delay_delete", {"name": "Delay0"}, 60),
            rpc("bdev_null_delete", {"name": "Null0"}, 61),
        ]),
        # Namespace masking: a no_auto_visible namespace, its hosts, the refusals.
        "masking": b"\n".join([
            rpc("bdev_malloc_create", {"name": "Malloc0", "num_blocks": 2048, "block_size": 512}, 1),
            rpc("bdev_malloc_create", {"name": "Malloc1", "num_blocks": 2048, "block_size": 512}, 2),
            rpc("nvmf_create_subsystem", {"nqn": sub, "allow_any_host": True}, 3),
            rpc("nvmf_subsystem_add_ns", {"nqn": sub, "namespace": {
                "bdev_name": "Malloc0", "nsid": 1, "no_auto_visible": True,
                "hide_metadata": False}}, 4),
            rpc("nvmf_subsystem_add_ns", {"nqn": sub, "namespace": {"bdev_name": "Malloc1"}}, 5),
            rpc("nvmf_ns_add_host", {"nqn": sub, "nsid": 1, "host": HOSTNQN.decode()}, 6),
            rpc("nvmf_ns_add_host", {"nqn": sub, "nsid": 1, "host": HOSTNQN.decode(),
                                     "tgt_name": "nvmf_tgt"}, 7),
            rpc("nvmf_ns_add_host", {"nqn": sub, "nsid": 2, "host": HOSTNQN.decode()}, 8),
            rpc("nvmf_ns_remove_host", {"nqn": sub, "nsid": 3, "host": "nqn.x"}, 9),
            rpc("save_config", None, 10),
            rpc("nvmf_ns_remove_host", {"nqn": sub, "nsid": 1, "host": HOSTNQN.decode()}, 11),
            rpc("nvmf_subsystem_remove_ns", {"nqn": sub, "nsid": 1}, 12),
        ]),
        # A leading space: the fuzzer runs it in SPDK's STARTUP state (--wait-for-rpc).
        "startup": b" " + b"\n".join([
            rpc("iobuf_set_options", {"small_pool_count": 8192, "enable_numa": False}, 1),
            rpc("sock_impl_set_options", {"impl_name": "posix", "recv_buf_size": 2097152,
                                          "enable_ktls": False}, 2),
            rpc("nvmf_set_config", {"discovery_filters": [], "dhchap_digests": ["sha256"],
                                    "admin_cmd_passthru": {"identify_ctrlr": False}}, 3),
            rpc("nvmf_set_max_subsystems", {"max_subsystems": 2}, 4),
            rpc("nvmf_set_crdt", {"crdt1": 0}, 5),
            rpc("bdev_get_bdevs", None, 6),
            rpc("rpc_get_methods", {"current": True}, 7),
            rpc("framework_start_init", None, 8),
            rpc("nvmf_create_subsystem", {"nqn": sub}, 9),
            rpc("nvmf_create_subsystem", {"nqn": sub + "x"}, 10),
            rpc("framework_wait_init", None, 11),
        ]),
    }


def keyed_sgl(addr, n, key, sub=0xF):
    return struct.pack("<Q", addr) + struct.pack("<I", n)[:3] + struct.pack("<I", key) + bytes([0x40 | sub])


def cm_request(qid, hsqsize, hrqsize, cntlid=0xFFFF, recfmt=0):
    return struct.pack("<HHHHH", recfmt, qid, hrqsize, hsqsize, cntlid) + bytes(22)


def rdma_wire_seeds():
    # Mode byte (even: CM private data, odd: capsule), three limit bytes.
    lim = bytes([96, 1, 126])
    connect = struct.pack("<BBHB", 0x7F, 0x40, 1, 0x01) + bytes(19) + keyed_sgl(0x1000, 1024, 7) + \
        struct.pack("<HHHBBI", 0, 0, 31, 0, 0, 0) + bytes(12)
    return {
        "cm-admin": bytes([0]) + lim + cm_request(0, 31, 32),
        "cm-io": bytes([0]) + lim + cm_request(1, 127, 128, cntlid=1),
        "cm-padded": bytes([0]) + lim + cm_request(0, 31, 32) + bytes(24),
        "cm-short": bytes([0]) + lim + cm_request(0, 31, 32)[:20],
        "capsule-read-keyed": bytes([1]) + bytes([5, 4, 1]) +
        sqe(0x02, 1, nsid=1, sgl=keyed_sgl(0x7F0000001000, 65536, 0x1234)) + struct.pack("<H", 0),
        "capsule-write-keyed": bytes([1]) + bytes([5, 4, 0]) +
        sqe(0x01, 2, nsid=1, sgl=keyed_sgl(0x2000, 131072, 9, sub=0)) + struct.pack("<H", 0),
        "capsule-write-icd": bytes([1]) + bytes([5, 4, 1]) +
        sqe(0x01, 3, nsid=1, sgl=icd_sgl(4096)) + struct.pack("<H", 4096),
        "capsule-connect": bytes([1]) + bytes([5, 4, 0]) + connect + struct.pack("<H", 0),
        "capsule-flush": bytes([1]) + bytes([5, 4, 0]) + sqe(0x00, 4, nsid=1) + struct.pack("<H", 0),
    }


def auth_negotiate(tid=1, scc=0, hashes=(1, 2, 3), groups=(0, 1)):
    desc = struct.pack("<BBBB", 1, 0, len(hashes), len(groups))
    desc += bytes(hashes).ljust(30, b"\0") + bytes(groups).ljust(30, b"\0")
    return struct.pack("<BBHHBB", 0, 0, 0, tid, scc, 1) + desc


def auth_reply(tid=1, hl=32, cvalid=0, seq=0, dhv=b""):
    return (struct.pack("<BBHHBBBBHI", 1, 2, 0, tid, hl, 0, cvalid, 0, len(dhv), seq) +
            bytes(range(hl)) + bytes(hl) + dhv)


def auth_challenge(tid=1, hash_id=1, hl=32, dhg=0, seq=7, dhv=b""):
    return (struct.pack("<BBHHBBBBHI", 1, 1, 0, tid, hl, 0, hash_id, dhg, len(dhv), seq) +
            bytes(range(0x40, 0x40 + hl)) + dhv)


def auth_success1(tid=1, hl=32, rval=b""):
    return struct.pack("<BBHHBBB7s", 1, 3, 0, tid, hl, 0, 1 if rval else 0, b"") + rval


def auth_failure(aid, tid=1, rce=1):
    return struct.pack("<BBHHBB", 0, aid, 0, tid, 1, rce)


def auth_sqe(fctype, sgl, length):
    # Fabrics 7Fh: FCTYPE at byte 4; SPSP0/SPSP1/SECP at 41..43, TL/AL at 44.
    head = struct.pack("<BBHB19s", 0x7F, 0x40, 1, fctype, b"")
    return head + sgl + struct.pack("<BBBBI16s", 0, 1, 1, 0xE9, length, b"")


def auth_seeds():
    def op_send(m):
        return bytes([1]) + struct.pack("<H", len(m)) + m

    def op_recv(al):
        return bytes([0]) + struct.pack("<H", al)

    neg = auth_negotiate()
    return {
        "parse-negotiate": bytes([0, 32]) + neg,
        "parse-reply": bytes([0, 32]) + auth_reply(),
        "parse-challenge": bytes([0, 48]) + auth_challenge(hash_id=2, hl=48),
        "parse-success1": bytes([0, 64]) + auth_success1(hl=64, rval=bytes(64)),
        "parse-failure": bytes([0, 0]) + auth_failure(0xF1),
        "target-null": bytes([1]) + op_send(neg) + op_recv(4096) + op_send(auth_reply()) +
        op_recv(4096),
        "target-2048": bytes([1]) + op_send(auth_negotiate(groups=(1,))) + op_recv(4096) +
        op_send(auth_reply(dhv=bytes(255) + b"\x02")) + op_recv(4096),
        "target-short-alloc": bytes([1]) + op_send(neg) + op_recv(20) + op_recv(4096),
        "target-failure2": bytes([1]) + op_send(auth_failure(0xF0)) + op_recv(8),
        "host-null": bytes([2]) + struct.pack("<H", 48) + auth_challenge() + auth_success1(),
        "host-2048": bytes([2]) + struct.pack("<H", 16 + 32 + 256) +
        auth_challenge(dhg=1, dhv=bytes(255) + b"\x05") + auth_success1(rval=bytes(32)),
        "host-failure1": bytes([2]) + struct.pack("<H", 8) + auth_failure(0xF1, rce=4),
        "honest-sha256-null": bytes([3, 0, 0, 0]),
        "honest-sha512-2048-two-way": bytes([3, 2, 1, 1]),
        "honest-sha384-reply-bit": bytes([3, 1, 0, 0]) + bytes(20) + b"\x01",
        "honest-truncated-reply": bytes([3, 0, 0, 0]) + bytes(16 + 64) + b"\xfe",
        # Secure channel concatenation. Mode 1's option bits are the queue's
        # policy (admin queue, TLS, TLS usable, required), mode 2's the host's
        # SC_C, mode 3's third byte bits 2:1 the honest host's SC_C.
        "target-concat-new": bytes([1 | (0b0101 << 2)]) +
        op_send(auth_negotiate(scc=2, hashes=(1, 2), groups=(1,))) + op_recv(4096) +
        op_send(auth_reply(cvalid=1, seq=0, dhv=bytes(255) + b"\x02")) + op_recv(4096),
        "target-concat-replace-tls": bytes([1 | (0b0111 << 2)]) +
        op_send(auth_negotiate(scc=3, hashes=(2,), groups=(2,))) + op_recv(4096),
        "target-concat-required-sc0": bytes([1 | (0b1101 << 2)]) + op_send(neg) + op_recv(4096),
        "target-concat-io-queue": bytes([1 | (0b0100 << 2)]) +
        op_send(auth_negotiate(scc=2)) + op_recv(4096),
        "target-concat-null-only": bytes([1 | (0b0101 << 2)]) +
        op_send(auth_negotiate(scc=2, groups=(0,))) + op_recv(4096),
        "host-concat": bytes([2 | (1 << 2)]) + struct.pack("<H", 16 + 32 + 256) +
        auth_challenge(dhg=1, dhv=bytes(255) + b"\x05") + auth_success1(),
        "honest-concat-new": bytes([3, 0, 0, 2]),
        "honest-concat-replace-two-way": bytes([3, 1, 0, 5]),
        "honest-concat-c2-bit": bytes([3, 0, 0, 2]) + bytes(16 + 32) + b"\x01",
    }


def ptpl_seeds():
    # PTPL files (SPDK's JSON) for bdev 11111111-2222-4333-8444-555555555555.
    bdev = "11111111-2222-4333-8444-555555555555"
    ha, hb = "a1a1a1a1-a1a1-4a1a-8a1a-a1a1a1a1a1a1", "b2b2b2b2-b2b2-4b2b-8b2b-b2b2b2b2b2b2"
    good = json.dumps({"ptpl": True, "rtype": 1, "crkey": 10, "bdev_uuid": bdev, "holder_uuid": ha,
                       "registrants": [{"rkey": 10, "host_uuid": ha},
                                       {"rkey": 20, "host_uuid": hb}]}, indent=2).encode()
    allregs = json.dumps({"ptpl": True, "rtype": 6, "crkey": 0, "bdev_uuid": bdev,
                          "registrants": [{"rkey": 1, "host_uuid": hb}]}).encode()
    return {
        "good": good,
        "all-registrants": allregs,
        "ptpl-off": json.dumps({"ptpl": False, "bdev_uuid": bdev, "registrants": []}).encode(),
        "empty": b"",
        "truncated": good[: len(good) // 2],
        "corrupt-byte": good[:40] + b"\x00" + good[41:],
        "other-bdev": good.replace(bdev.encode(), b"11111111-2222-4333-8444-000000000000"),
        "holder-not-registrant": good.replace(b'"holder_uuid": "a1', b'"holder_uuid": "c1'),
    }


def main():
    write_seeds("tcp_stream", {
        "admin": chunked(admin_session()),
        "admin-digests": chunked(admin_session(True, True)),
        "discovery": chunked(discovery_session()),
        "admin-1byte-chunks": b"".join(bytes([0]) + bytes([b]) for b in admin_session()[:600]),
        "garbage": b"\xff" + b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 4,
    })
    # Command fuzzer input: qid byte, then a 64-byte SQE, then data.
    cmds = {
        "read": bytes([1]) + sqe(0x02, 1, nsid=1, sgl=xport_sgl(4096), cdw10=0, cdw12=7),
        "write": bytes([1]) + sqe(0x01, 1, nsid=1, sgl=icd_sgl(512), cdw10=3) + bytes(range(256)) * 2,
        "compare": bytes([1]) + sqe(0x05, 1, nsid=2, sgl=icd_sgl(4096), cdw10=1) + bytes(4096),
        "write-zeroes": bytes([1]) + sqe(0x08, 1, nsid=1, cdw10=10, cdw12=100),
        "dsm": bytes([1]) + sqe(0x09, 1, nsid=1, sgl=icd_sgl(32), cdw10=1, cdw11=4) +
        struct.pack("<IIQIIQ", 0, 8, 0, 0, 16, 100),
        "flush": bytes([1]) + sqe(0x00, 1, nsid=1),
        "identify": bytes([0]) + sqe(0x06, 1, sgl=xport_sgl(4096), cdw10=1),
        "get-log-error": bytes([0]) + sqe(0x02, 1, sgl=xport_sgl(4096), cdw10=(1023 << 16) | 1),
        "get-log-effects": bytes([0]) + sqe(0x02, 1, sgl=xport_sgl(4096), cdw10=(1023 << 16) | 5),
        "get-log-changed": bytes([0]) + sqe(0x02, 1, sgl=xport_sgl(4096), cdw10=(1023 << 16) | 4),
        "get-features-kato": bytes([0]) + sqe(0x0A, 1, cdw10=0x0F),
        "set-features-hostid": bytes([0]) + sqe(0x09, 1, sgl=icd_sgl(16), cdw10=0x81, cdw11=1) + bytes(16),
        "aer": bytes([0]) + sqe(0x0C, 1),
        # Abort: an admin AER (SQID 0), then an I/O queue's CID 1.
        "abort-admin": bytes([0]) + sqe(0x08, 1, cdw10=(1 << 16) | 0),
        "abort-io": bytes([0]) + sqe(0x08, 1, cdw10=(1 << 16) | 1),
        # Authentication Send (AUTH_Negotiate) and Receive (SECP E9h, SPSP 1/1).
        "auth-send": bytes([0]) + auth_sqe(0x05, icd_sgl(72), 72) + auth_negotiate(),
        "auth-send-concat": bytes([0]) + auth_sqe(0x05, icd_sgl(72), 72) +
        auth_negotiate(scc=2, groups=(1,)),
        "auth-recv": bytes([1]) + auth_sqe(0x06, xport_sgl(4096), 4096),
        # Reservations: the queue byte's bits 2:1 pick one of four hosts.
        "resv-register": bytes([1]) + sqe(0x0D, 1, nsid=1, sgl=icd_sgl(16)) + struct.pack("<QQ", 0, 5),
        "resv-register-host1-cptpl": bytes([3]) + sqe(0x0D, 1, nsid=1, sgl=icd_sgl(16),
                                                     cdw10=(3 << 30)) + struct.pack("<QQ", 0, 6),
        "resv-replace-iekey": bytes([1]) + sqe(0x0D, 1, nsid=1, sgl=icd_sgl(16), cdw10=0xA) +
        struct.pack("<QQ", 9, 7),
        "resv-unregister": bytes([1]) + sqe(0x0D, 1, nsid=1, sgl=icd_sgl(16), cdw10=1) +
        struct.pack("<QQ", 5, 0),
        "resv-acquire-ea": bytes([1]) + sqe(0x11, 1, nsid=1, sgl=icd_sgl(16), cdw10=0x200) +
        struct.pack("<QQ", 5, 0),
        "resv-preempt-abort": bytes([3]) + sqe(0x11, 1, nsid=1, sgl=icd_sgl(16), cdw10=0x602) +
        struct.pack("<QQ", 6, 5),
        "resv-release": bytes([1]) + sqe(0x15, 1, nsid=1, sgl=icd_sgl(8), cdw10=0x200) +
        struct.pack("<Q", 5),
        "resv-clear": bytes([1]) + sqe(0x15, 1, nsid=1, sgl=icd_sgl(8), cdw10=1) + struct.pack("<Q", 5),
        "resv-report": bytes([1]) + sqe(0x0E, 1, nsid=1, sgl=xport_sgl(4096), cdw10=1023, cdw11=1),
        "resv-report-short": bytes([1]) + sqe(0x0E, 1, nsid=1, sgl=xport_sgl(64), cdw10=200, cdw11=0),
        "get-log-resv": bytes([0]) + sqe(0x02, 1, sgl=xport_sgl(64), cdw10=(15 << 16) | 0x80),
        "set-features-resv-mask": bytes([0]) + sqe(0x09, 1, nsid=0xFFFFFFFF, cdw10=0x82, cdw11=0xE),
        "set-features-ptpl": bytes([0]) + sqe(0x09, 1, nsid=1, cdw10=0x83, cdw11=1),
        "get-features-ptpl": bytes([0]) + sqe(0x0A, 1, nsid=1, cdw10=0x83),
    }
    write_seeds("commands", cmds)
    write_seeds("ptpl", ptpl_seeds())
    write_seeds("rpc", rpc_seeds())
    write_seeds("rdma_wire", rdma_wire_seeds())
    write_seeds("auth_messages", auth_seeds())
    write_seeds("tls_stream", tls_seeds())


if __name__ == "__main__":
    main()
