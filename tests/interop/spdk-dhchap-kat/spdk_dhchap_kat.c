/* Computes the responses of tests/unit/dhchap_vectors.hpp with SPDK's own
 * spdk_nvme_dhchap_calculate (lib/nvme/nvme_auth.c), keys loaded by SPDK's
 * keyring_file module, so that our known answers are checked by another
 * implementation. Usage: spdk_dhchap_kat DIR (DIR holds key1..key3, DHHC-1
 * texts, and secret.bin, the 256-byte FFDHE-2048 secret). Prints
 * "<hash> <name> <hex>" lines; tests/interop/run-spdk-dhchap-kat compares them. */
#include "spdk/stdinc.h"
#include "spdk/keyring.h"
#include "spdk/module/keyring/file.h"
#include "spdk/nvmf_spec.h"
#include "spdk_internal/nvme.h"

static void
print_hex(int h, const char *label, const uint8_t *p, size_t n)
{
	printf("%d %s ", h, label);
	for (size_t i = 0; i < n; i++) {
		printf("%02x", p[i]);
	}
	printf("\n");
}

int
main(int argc, char **argv)
{
	const char *host = "nqn.2014-08.org.nvmexpress:uuid:0c468c4d-a385-47e0-8299-6e95051277db";
	const char *sub = "nqn.2024-01.io.nvmf-target:kat";
	char path[PATH_MAX];
	uint8_t dh[256];
	FILE *f;

	if (argc != 2) {
		return 2;
	}
	snprintf(path, sizeof(path), "%s/secret.bin", argv[1]);
	f = fopen(path, "rb");
	if (f == NULL || fread(dh, 1, sizeof(dh), f) != sizeof(dh)) {
		return 2;
	}
	fclose(f);
	if (spdk_keyring_init() != 0) {
		return 3;
	}
	for (int h = 1; h <= 3; h++) {
		char name[16];
		uint8_t cval[64], r[64];
		size_t hl = h == 1 ? 32 : h == 2 ? 48 : 64;
		struct spdk_key *key;

		snprintf(name, sizeof(name), "key%d", h);
		snprintf(path, sizeof(path), "%s/key%d", argv[1], h);
		if (spdk_keyring_file_add_key(name, path) != 0) {
			return 4;
		}
		key = spdk_keyring_get_key(name);
		if (key == NULL) {
			return 5;
		}
		for (size_t i = 0; i < hl; i++) {
			cval[i] = (uint8_t)(0x80 + i);
		}
		if (spdk_nvme_dhchap_calculate(key, h, "HostHost", 0x01020304, 0x0506, 0, host, sub,
					       NULL, 0, cval, r) != 0) {
			return 6;
		}
		print_hex(h, "host_response_null", r, hl);
		if (spdk_nvme_dhchap_calculate(key, h, "HostHost", 0x01020304, 0x0506, 0, host, sub,
					       dh, sizeof(dh), cval, r) != 0) {
			return 7;
		}
		print_hex(h, "host_response_dh", r, hl);
		/* The controller key is the same secret, transformed for the subsystem. */
		if (spdk_nvme_dhchap_calculate(key, h, "Controller", 0xa0b0c0d0, 0x0506, 0, sub, host,
					       dh, sizeof(dh), cval, r) != 0) {
			return 8;
		}
		print_hex(h, "ctrl_response_dh", r, hl);
		spdk_keyring_put_key(key);
	}
	spdk_keyring_cleanup();
	return 0;
}
