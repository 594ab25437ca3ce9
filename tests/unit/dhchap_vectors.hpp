// Known-answer vectors for DH-HMAC-CHAP (tests/unit/test_dhchap_crypto.cpp).
//
// Where they come from:
// - transformed keys: printed by nvme-cli 2.3 (libnvme 1.3), an implementation
//   independent of ours: `nvme gen-dhchap-key --secret=000102...  --hmac=N
//   --nqn=<host_nqn> -l L` prints the DHHC-1 text of the *transformed* secret;
// - the FFDHE-2048 values: Python big integers, with p rebuilt from its
//   definition in RFC 7919 appendix A.1 (2^2048 - 2^1984 + (floor(2^1918 e) +
//   560316) 2^64 - 1), g = 2, x = 32 bytes of 0x11, y = 32 bytes of 0x22;
// - the responses: Python's hmac/hashlib following the formula of NVMe Base
//   2.x (as the Linux host and SPDK compute it), the SPDK cross-check is in
//   docs/security.md.
#pragma once

namespace nvmf::auth::kat {

constexpr const char* host_nqn =
    "nqn.2014-08.org.nvmexpress:uuid:0c468c4d-a385-47e0-8299-6e95051277db";
constexpr const char* sub_nqn = "nqn.2024-01.io.nvmf-target:kat";

// gen-dhchap-key output for the secret 00 01 02 ... (32, 48, 64 bytes).
constexpr const char* nvme_cli_01_32 =
    "DHHC-1:01:7EyObguKeKyva0YDZfzPC5NsEGwSFGLDSZhtJF64noKghhCb:";
constexpr const char* nvme_cli_02_48 =
    "DHHC-1:02:N2EjLz87Rs+1WiptadhL5c+gjUPHK50YzM6vvFtXPUvAmEEXhBNxqpXyPx14MlVjvR4I2w==:";
constexpr const char* nvme_cli_03_64 =
    "DHHC-1:03:mbLuLV4oZBAfzEEg/"
    "OgD3lPQ6jfi2WTSDidBfdVjmdJMeJk+ZMOV16KklTyIbMPjFRuffNAj0ntrJ2Fo5erbTBFHTOo=:";

constexpr const char* ffdhe2048_pub_x =
    "352b57f488bd414c29868f65ae6b0211689618954fd20b5361a7a1ebf10270730c04686768c840681599db5a"
    "b8254714ee334b08809a14f024d76394c9c59cc4a4a24a8a58eb965b9ae9b5917f0cebc46dedf1cad60f701a"
    "e78d87b154a0c632214bed6e57b8d651836efdb27906d77c306c81bbe05db29a98e1417a1760fc9b6ce4168a"
    "5827c0a10e14d61f66455b01f16addf36a6ddd9a1ae1b1cac949209b739e331c0e86733934d4131f90b7e63c"
    "63fff4c38c572bcae2c151879c29eafd40fc159f95ce20e384f7fc6e08cb93cb6d51228dae663fd9c89ee333"
    "0b4e8358c10ebe42248c5ab51056f873175cb7143eda7c1393adb375b04e262d77020251";
constexpr const char* ffdhe2048_pub_y =
    "90b185b0080e81c94d3ec9168128b6312d863aeccad8ab29cefec1dda7cfe55161427b91a440f60e20165f41"
    "555ed6f114436aeba2409495560f2210a419511081d15685d0248b915219fcdf6bd85aa7491c4e6c12e92146"
    "f21b5759aaf18f260f12eb4015f1d9380228e53bef183d807b14e7525738d2f0743b69d0e4a60551bf813512"
    "0b9f9af2cd4d6347ea2bbba92eee4ad459c143acb4d4bc5a33071068aada66e30d8701ac57ba05bbe81c0ae4"
    "8465b6f1568b3f71bbf0c03201531cc67de533ad68ad67161272cec15966779d7a998238d1b5a1f806d094c9"
    "ce976a8f7974b5866c0526167ab73303bed6e28c684c141a1b89901e277e3619f93382ae";
constexpr const char* ffdhe2048_secret =
    "4d44622aa7249eca7bc61332772fd9020ccfe5642c931bdecd83854a5027b524984c911088bc450401db21a4"
    "d49a14402cdbd3814280e86873e938714b2697db23f584bf2b6066bc9dbf8d631957d3b6037edf5918fd0078"
    "d107eeed8a0d1691dc07dcbafb8b8a01b81a14a44e25ffea20a70f2410e188451902b9e227427bbed8bd1217"
    "bc6dc853cff041a81371c75b16f407d28e6f12698994657864a60e74f5021c1fa68f422f79837b8b47947c35"
    "344f6edcc72636c3fa782e26e7010beb40f48e76d2d59e59b990956c4bb1b147467b36cd851461340a2d0b39"
    "7a0144fa6f9abfb003d5d899dee4c10f031e4f9c63dba2fde4dd951d3a72d226daa1d376";

// Per hash id 1..3: the host key is the secret 00 01 .. transformed with the
// same hash for host_nqn (as nvme-cli prints it above), the controller key
// the same secret transformed for sub_nqn. Challenge: 80 81 82 ... (hash
// length); host response: seqnum 0x01020304, tid 0x0506, SC_C 0, "HostHost",
// host_nqn, sub_nqn; controller response: seqnum 0xa0b0c0d0, "Controller",
// sub_nqn, host_nqn, with the FFDHE-2048 secret above.
struct response_vector {
    const char* host_key;
    const char* ctrl_key;
    const char* host_response_null;
    const char* host_response_dh;
    const char* ctrl_response_dh;
};
constexpr response_vector responses[4] = {
    {},
    {"ec4c8e6e0b8a78acaf6b460365fccf0b936c106c121462c349986d245eb89e82",
     "7ab1c4a615a8c999233c6f9ac7ef26adeb8cde0f127711dbb22daf891a9fe794",
     "831fae3a453a3bb7bcb96cabc03d2f1247ee9ab1a730a3937045694cd8f4e586",
     "55ae96c58c5836b37d333ad7d0bf674578af54fe1a8b87ded332a29bbe09582e",
     "ffc89621cb6274925962deca82409394cf72e80e550fbe49b2b16247c17a162d"},
    {"3761232f3f3b46cfb55a2a6d69d84be5cfa08d43c72b9d18ccceafbc5b573d4bc0984117841371aa95f23f1d"
     "78325563",
     "0577a2c7f96d7b3912da0df1691d2a9913109c318906bbf9858481d3d5b8efd865a96d1b87b2e8d771961e37"
     "4db91b81",
     "bde09de848fd0e0eaa96ae28a189de3c24308b71550025e48cfd4ead30c5ae5b054e850ed93f461b3478ff0a"
     "de277e92",
     "5f4f0868bf44ab09df68cf74a7fcb96234a66c91f8c377b8867315b8beff60069d84155b78797b4e8f5632fb"
     "b9d435e7",
     "31b1c852521082b931ee3ccf0bf15e8206c6936359ea6a75a0f08b478ac7b5a92b9d6ae37a40a4f5cbba8d7c"
     "a68f7161"},
    {"99b2ee2d5e2864101fcc4120fce803de53d0ea37e2d964d20e27417dd56399d24c78993e64c395d7a2a4953c"
     "886cc3e3151b9f7cd023d27b6b276168e5eadb4c",
     "2049ecc3edfcc4ace58819201183d4b2ea5772ef454757341eaa1da44d6046142176144d1501d33b2bdf9075"
     "6f25495db63ae142a70e6ac884ef46c18b4cf6a3",
     "0e26f5461c9310b774089084c85e030016c388844dc72278fd28c72061b2ad7ac237ca3e869f46b583ae05c0"
     "85c1d482b3dbe39ef197c12f5e1464fd9e6cf489",
     "ee4116c51f961152cadbb684207a9ae878935f95949900f08aff9906a32d5766ccd638c8ad89174ac202f01b"
     "4d936eb527d024236eaf4c15a9c07ce103e3fb86",
     "ee1008cc00970b4bf49b57ea666c91a8674abea8c235c5613388b2c36d32a6c7d4b57c6e0184ad69caeabcf6"
     "5e47d33c586d0cac28df8dcdcb020a6b26c7c221"},
};

}  // namespace nvmf::auth::kat
