#!/usr/bin/env python3
# An independent HKDF (RFC 5869) with the TLS 1.3 HkdfLabel (RFC 8446), for the
# NVMe/TCP PSK derivations: prints the retained PSK, the NVMe0R and NVMe1R
# identities and TLS PSKs of the libnvme test key for two NQN pairs. The source
# of the NVMe1R TLS PSK vectors in tests/unit/test_tls_psk.cpp; it also
# reproduces the SPDK and libnvme vectors there. Then the generated PSK of
# secure channel concatenation (HMAC(Ks, C1 || C2), its digest, the NVMe1G
# identity and TLS PSK) on the inputs of the Linux kernel's KUnit test
# (drivers/nvme/common/tests/auth_kunit.c), whose published values it
# reproduces (tests/unit/test_generated_psk.cpp). Standard library only.
import hmac, hashlib, struct, base64, sys
def extract(h, salt, ikm):
    return hmac.new(salt or b'\0' * h().digest_size, ikm, h).digest()
def expand(h, prk, info, n):
    out, t, i = b'', b'', 1
    while len(out) < n:
        t = hmac.new(prk, t + info + bytes([i]), h).digest(); out += t; i += 1
    return out[:n]
def label(n, lab, ctx):
    lab = b'tls13 ' + lab
    return struct.pack('>H', n) + bytes([len(lab)]) + lab + bytes([len(ctx)]) + ctx
def hkdf(h, key, lab, ctx, n):
    return expand(h, extract(h, b'', key), label(n, lab, ctx), n)
cfg32 = bytes.fromhex('5512dbb6737d0106f65975b773dfb011ffc344bcf442e2dd6d8bc4870b5d5b03')
cfg48 = cfg32 + bytes.fromhex('ffc344bcf442e2dd6d8bc4870b5d5b03')
for host, sub in [('nqn.2016-06.io.spdk:host1', 'nqn.2016-06.io.spdk:cnode1'), ('nqn.psk-test-host', 'nqn.psk-test-subsys')]:
    for hh, h, cfg in [(1, hashlib.sha256, cfg32), (2, hashlib.sha384, cfg48)]:
        ret = hkdf(h, cfg, b'HostNQN', host.encode(), len(cfg))
        ident0 = 'NVMe0R%02d %s %s' % (hh, host, sub)
        tls0 = hkdf(h, ret, b'nvme-tls-psk', ident0.encode(), len(cfg))
        dig = base64.b64encode(hmac.new(ret, ('%s %s NVMe-over-Fabrics' % (host, sub)).encode(), h).digest()).decode()
        tls1 = hkdf(h, ret, b'nvme-tls-psk', ('%02d %s' % (hh, dig)).encode(), len(cfg))
        print(host, sub, hh)
        print('  retained', ret.hex()); print('  v0', ident0, tls0.hex())
        print('  v1 NVMe1R%02d %s %s %s' % (hh, host, sub, dig), tls1.hex())
# Secure channel concatenation, the kernel's KUnit inputs.
for hh, h in [(1, hashlib.sha256), (2, hashlib.sha384), (3, hashlib.sha512)]:
    n = h().digest_size
    ks = bytes(ord('A') + i for i in range(n))
    c1, c2 = bytes(range(n)), bytes(0xff - i for i in range(n))
    psk = hmac.new(ks, c1 + c2, h).digest()
    print('generated', hh, psk.hex())
    if hh == 3:
        continue  # SHA-512 has no NVMe/TCP cipher suite
    dig = base64.b64encode(hmac.new(psk, b'hostnqn subsysnqn NVMe-over-Fabrics', h).digest()).decode()
    tls = hkdf(h, psk, b'nvme-tls-psk', ('%02d %s' % (hh, dig)).encode(), n)
    print('  NVMe1G%02d hostnqn subsysnqn %s' % (hh, dig), tls.hex())
