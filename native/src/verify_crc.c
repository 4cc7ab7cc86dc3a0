/*
 * crc32(data, initial) → number: the CRC-32 (gzip's) of data continuing from initial, through
 * libdeflate's crc32 (the Debian package libdeflate0, loaded with dlopen as backwing_fs.c does).
 * Why (issue 17): a local backup's read-back compares the CRC32 of each gzip member as the writer
 * passed it to the file with that of the bytes read back, i.e. two CRC32 passes over the whole
 * archive. zlib.crc32 in Node 20 (no carry-less multiply) took 131 ms for the small bench tree's
 * 172 MiB archive on this machine, libdeflate's (PCLMULQDQ/AVX2) 25 ms: about 0.2 CPU-s of a
 * backup's ~5.5, the largest part of what verification adds after the inflate.
 * Synchronous: it runs where the bytes are (the writer's tap, the read-back thread), on 1 MiB at a
 * time, which takes ~0.15 ms.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stddef.h>

#include <node_api.h>

static uint32_t (*ld_crc32)(uint32_t, const void *, size_t);
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_load(void) {
  void *h = dlopen("libdeflate.so.0", RTLD_NOW | RTLD_LOCAL);
  if (h) ld_crc32 = (uint32_t(*)(uint32_t, const void *, size_t))dlsym(h, "libdeflate_crc32");
}

napi_value verify_crc32(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  napi_typedarray_type type;
  size_t len;
  void *data;
  uint32_t initial = 0;
  pthread_once(&crc_once, crc_load);
  if (!ld_crc32) {
    napi_throw_error(env, NULL, "libdeflate is not loaded");
    return NULL;
  }
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_typedarray_info(env, argv[0], &type, &len, &data, NULL, NULL) != napi_ok || type != napi_uint8_array ||
      (argc > 1 && napi_get_value_uint32(env, argv[1], &initial) != napi_ok)) {
    napi_throw_type_error(env, NULL, "crc32: a Uint8Array and an optional unsigned 32-bit initial value expected");
    return NULL;
  }
  uint32_t crc = ld_crc32(initial, len ? data : "", len);
  if (napi_create_uint32(env, crc, &result) != napi_ok) return NULL;
  return result;
}
