/* Prints what SPDK derives for an interchange PSK, a host NQN and a
 * subsystem NQN: the configured key, the NVMe0R identity, the retained PSK
 * and the TLS PSK (SPDK's own functions from include/spdk_internal/nvme_tcp.h).
 * The source of the SPDK vectors in tests/unit/test_tls_psk.cpp. Not built
 * by CMake; against the peer's build (../peers/spdk):
 *
 *   S=../peers/spdk
 *   gcc -o /tmp/spdk_kat tests/kat/spdk_tls_psk_kat.c -DSPDK_TLS_PSK_MAX_LEN=200 \
 *       -I$S/include -L$S/build/lib -Wl,-rpath,$S/build/lib -lspdk_util -lspdk_log -lcrypto
 *   /tmp/spdk_kat 'NVMeTLSkey-1:01:...:' nqn.2016-06.io.spdk:host1 nqn.2016-06.io.spdk:cnode1
 */
#include "spdk/stdinc.h"
#include "spdk/log.h"
#include "spdk/crc32.h"
#include "spdk/string.h"
#include "spdk/sock.h"
#include "spdk/base64.h"
#include "spdk/endian.h"
#include "spdk_internal/nvme_tcp.h"

static void
hex(const char *what, const uint8_t *b, int n)
{
	printf("%s ", what);
	for (int i = 0; i < n; i++) {
		printf("%02x", b[i]);
	}
	printf("\n");
}

int
main(int argc, char **argv)
{
	uint8_t configured[128] = {}, retained[128] = {}, tls[128] = {};
	uint64_t csize = 0;
	uint8_t hash = 0;
	char id[NVMF_PSK_IDENTITY_LEN];
	int rlen, tlen, suite;

	if (argc != 4) {
		fprintf(stderr, "usage: %s INTERCHANGE_KEY HOSTNQN SUBNQN\n", argv[0]);
		return 2;
	}
	if (nvme_tcp_parse_interchange_psk(argv[1], configured, sizeof(configured), &csize, &hash)) {
		printf("parse failed\n");
		return 1;
	}
	hex("configured", configured, csize);
	suite = csize == 32 ? NVME_TCP_CIPHER_AES_128_GCM_SHA256 : NVME_TCP_CIPHER_AES_256_GCM_SHA384;
	nvme_tcp_generate_psk_identity(id, sizeof(id), argv[2], argv[3], suite);
	printf("identity %s\n", id);
	if (hash == 0) {
		memcpy(retained, configured, csize);
		rlen = csize;
	} else {
		rlen = nvme_tcp_derive_retained_psk(configured, csize, argv[2], retained,
						    sizeof(retained), hash);
	}
	hex("retained", retained, rlen);
	tlen = nvme_tcp_derive_tls_psk(retained, rlen, id, tls, sizeof(tls), suite);
	hex("tls_psk", tls, tlen);
	return 0;
}

/* libspdk_util references the env library's allocators; libc is enough here. */
void *
spdk_realloc(void *buf, size_t size, size_t align)
{
	return realloc(buf, size);
}

void
spdk_free(void *buf)
{
	free(buf);
}

/* Referenced by an inline function of nvme_tcp.h that this program never calls. */
ssize_t
spdk_sock_recv(struct spdk_sock *sock, void *buf, size_t len)
{
	return -1;
}
