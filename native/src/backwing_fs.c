/*
 * backwing_fs: the per-file system calls of small-file extraction and of the create walk, batched.
 *
 * Why this is hand-written (house rule: only where a library measurably cannot meet the bar).
 * Measured on the bench's small tree (54,204 files, 228 MiB, tmpfs, 2 cores, `perf record -F 1999`
 * of `backwing archive extract` through the CLI, compiled): the writer thread, which does nothing
 * but open/write/fchmod/futimens/close for ~52,000 small files, took 1.18 CPU-s, of which 0.71 s in
 * the kernel and 0.47 s in user space: Node's fs bindings (argument checks, path string → C string,
 * uv_fs_t request set-up, error objects), the JS around them and the `/proc/self/fd/<dirfd>/<name>`
 * string per file; the kernel part includes resolving that magic-link path for every open. So about
 * 0.5 of extraction's 3.5-3.9 CPU-s was call overhead with no I/O in it; no npm library batches
 * openat/write/futimens. The create walk pays the same per file on the main thread (open, fstat,
 * read, fstat, close through fs.*Sync). Here a run of files costs one JS → C crossing, and every
 * open is an openat() relative to a directory descriptor the caller already holds (extraction: the
 * checked directory of TargetGuard; create: the walked directory, opened once per run).
 * After (callgrind instruction counts, which load does not move): extraction of 8,000 small-tree
 * files 2.58 → 2.46 G; create of the small tree's config/ (24,000 files, with libdeflate below)
 * 7.70 → 6.21 G. Whole bench figures: docs/benchmarks.md, "After the native addon".
 *
 * The rule for safety: these functions do only the common case and hand anything unusual back to
 * the JavaScript path, which then runs exactly the code it ran before this addon existed. They
 * never decide what is refused; they stop (extraction) or flag an entry (create) instead.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <node_api.h>

/* Numbers per file in writeFiles' meta (the writer batch's layout, extract-write.ts META_FIELDS). */
#define WRITE_META 5
/* Numbers per file in readFiles' result (native-fs.ts READ_FIELDS). */
#define READ_FIELDS 9

#define CHECK(call)                                                       \
  do {                                                                    \
    if ((call) != napi_ok) {                                              \
      napi_throw_error(env, NULL, "backwing_fs: bad arguments (" #call ")"); \
      return NULL;                                                        \
    }                                                                     \
  } while (0)

/* A name component as bytes: a JS string (UTF-8, as fs encodes it) or a Uint8Array / Buffer. */
typedef struct {
  char text[1024];
  const char *bytes;
  size_t len;
} name_t;

/*
 * One path component, exactly as the JS side passes it; false when it is not a plain component
 * (empty, ".", "..", a "/" or a NUL in it, or too long), which the callers treat as "not mine".
 */
static int get_name(napi_env env, napi_value v, name_t *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return 0;
  if (t == napi_string) {
    size_t len = 0;
    if (napi_get_value_string_utf8(env, v, out->text, sizeof out->text, &len) != napi_ok) return 0;
    if (len >= sizeof out->text - 1) return 0; /* possibly cut: leave it to the JS path */
    out->bytes = out->text;
    out->len = len;
  } else {
    bool is_ta = false;
    if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return 0;
    napi_typedarray_type tt;
    size_t len;
    void *data;
    if (napi_get_typedarray_info(env, v, &tt, &len, &data, NULL, NULL) != napi_ok || tt != napi_uint8_array) return 0;
    if (len == 0 || len >= sizeof out->text) return 0;
    memcpy(out->text, data, len);
    out->text[len] = 0;
    out->bytes = out->text;
    out->len = len;
  }
  if (out->len == 0 || memchr(out->bytes, '/', out->len) || memchr(out->bytes, 0, out->len)) return 0;
  if ((out->len == 1 && out->bytes[0] == '.') || (out->len == 2 && out->bytes[0] == '.' && out->bytes[1] == '.')) return 0;
  return 1;
}

static int get_bytes(napi_env env, napi_value v, uint8_t **data, size_t *len) {
  napi_typedarray_type tt;
  void *p;
  if (napi_get_typedarray_info(env, v, &tt, len, &p, NULL, NULL) != napi_ok || tt != napi_uint8_array) return 0;
  *data = p;
  return 1;
}

static int get_f64(napi_env env, napi_value v, double **data, size_t *len) {
  napi_typedarray_type tt;
  void *p;
  if (napi_get_typedarray_info(env, v, &tt, len, &p, NULL, NULL) != napi_ok || tt != napi_float64_array) return 0;
  *data = p;
  return 1;
}

/* Seconds as a double to a timespec, rounding as libuv does for fs.futimesSync. */
static struct timespec to_timespec(double t) {
  struct timespec ts;
  ts.tv_sec = (time_t)t;
  ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
  if (ts.tv_nsec < 0) {
    ts.tv_sec--;
    ts.tv_nsec += 1000000000L;
  }
  return ts;
}

static int write_all(int fd, const uint8_t *p, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) {
      errno = EIO;
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/*
 * writeFiles(dirfd, names, meta, from, to, data, umask, uid, gid) → the index of the first file it
 * did not write (`to` when it wrote them all).
 *
 * For names[from..to), all in the directory `dirfd` (a directory TargetGuard holds: opened
 * O_DIRECTORY|O_NOFOLLOW and its real path checked inside the root), each file is created
 * openat(dirfd, name, O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC): what the JS path does through
 * `/proc/self/fd/<dirfd>/<name>`, which the kernel resolves to the same held directory. Then its
 * bytes data[off, off+len) are written, fchown'd when uid >= 0, fchmod'ed to mode & 01777 (setuid
 * and setgid dropped, as the JS path does) unless it was created with that mode already (mode
 * survives the umask), futimens'd to mtime, closed.
 *
 * It stops at the first file that is not the plain case, before touching anything of it: a name
 * that already exists (EEXIST: the JS path decides between truncating a plain file and replacing a
 * link, or refusing a directory) or any other failure to create it. A file it created and then
 * failed to finish (a write error such as ENOSPC) is unlinked from the held directory first, so the
 * JS path redoes that file from scratch and reports its error exactly as before.
 */
static napi_value write_files(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 9) {
    napi_throw_type_error(env, NULL, "writeFiles: 9 arguments expected");
    return NULL;
  }
  int32_t dirfd, from, to, umask_bits, uid, gid;
  double *meta;
  size_t meta_len, data_len;
  uint8_t *data;
  CHECK(napi_get_value_int32(env, argv[0], &dirfd));
  CHECK(napi_get_value_int32(env, argv[3], &from));
  CHECK(napi_get_value_int32(env, argv[4], &to));
  CHECK(napi_get_value_int32(env, argv[6], &umask_bits));
  CHECK(napi_get_value_int32(env, argv[7], &uid));
  CHECK(napi_get_value_int32(env, argv[8], &gid));
  if (!get_f64(env, argv[2], &meta, &meta_len) || !get_bytes(env, argv[5], &data, &data_len)) {
    napi_throw_type_error(env, NULL, "writeFiles: meta must be a Float64Array and data a Uint8Array");
    return NULL;
  }
  if (from < 0 || to < from || (size_t)to * WRITE_META > meta_len) {
    napi_throw_range_error(env, NULL, "writeFiles: from/to outside the batch");
    return NULL;
  }
  int32_t i = from;
  for (; i < to; i++) {
    napi_value nv;
    name_t name;
    CHECK(napi_get_element(env, argv[1], (uint32_t)i, &nv));
    if (!get_name(env, nv, &name)) break;
    const double *m = meta + (size_t)i * WRITE_META;
    const int mode = (int)m[1] & 01777;
    const double off = m[3], len = m[4];
    if (off < 0 || len < 0 || off + len > (double)data_len) break;
    /* Created with its final mode when the umask keeps all of it (the JS path's rule). */
    const int keep = (mode & umask_bits) == 0;
    int fd = openat(dirfd, name.bytes, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, keep ? mode : 0600);
    if (fd < 0) break;
    struct timespec ts[2];
    ts[0] = ts[1] = to_timespec(m[2]);
    int bad = write_all(fd, data + (size_t)off, (size_t)len) != 0;
    if (!bad && uid >= 0) bad = fchown(fd, (uid_t)uid, (gid_t)gid) != 0;
    if (!bad && !keep) bad = fchmod(fd, (mode_t)mode) != 0;
    if (!bad) bad = futimens(fd, ts) != 0;
    if (close(fd) != 0) bad = 1;
    if (bad) {
      unlinkat(dirfd, name.bytes, 0);
      break;
    }
  }
  napi_value result;
  CHECK(napi_create_int32(env, i, &result));
  return result;
}

/*
 * One small file into the held directory dirfd, the plain cases only: 0 when written, -1 when it
 * is left to the JavaScript path (TargetGuard.writeSmall), which then runs exactly as before.
 *
 * A fresh name is created as in write_files. A name that exists is taken here only when it is a
 * plain file with one link, which is writeSmall's "reuse it in place" case: fstatat without
 * following (writeSmall's lstat), opened O_WRONLY|O_NOFOLLOW (plus O_NONBLOCK, so a FIFO swapped in
 * meanwhile cannot block: writeSmall's lstat would not have let it through either), checked again
 * through the descriptor (same inode, still a plain file with one link: stricter than writeSmall,
 * which trusted its lstat), truncated, then written and finished like a fresh file except that the
 * mode is always set. Anything else there (a directory, a link, a shared inode, a special file)
 * stops before touching it. A fresh file that cannot be finished is unlinked first; an existing one
 * is simply redone by writeSmall (truncate and write again), which reports the error as before.
 */
static int write_one(int dirfd, const char *name, int mode, double mtime, const uint8_t *data, size_t len, int umask_bits, int uid, int gid) {
  const int keep = (mode & umask_bits) == 0;
  int existing = 0;
  int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, keep ? mode : 0600);
  if (fd < 0) {
    if (errno != EEXIST) return -1;
    struct stat st, now;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) return -1;
    fd = openat(dirfd, name, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return -1;
    if (fstat(fd, &now) != 0 || now.st_ino != st.st_ino || now.st_dev != st.st_dev || !S_ISREG(now.st_mode) || now.st_nlink != 1 || ftruncate(fd, 0) != 0) {
      close(fd);
      return -1;
    }
    existing = 1;
  }
  struct timespec ts[2];
  ts[0] = ts[1] = to_timespec(mtime);
  int bad = write_all(fd, data, len) != 0;
  if (!bad && uid >= 0) bad = fchown(fd, (uid_t)uid, (gid_t)gid) != 0;
  if (!bad && (existing || !keep)) bad = fchmod(fd, (mode_t)mode) != 0;
  if (!bad) bad = futimens(fd, ts) != 0;
  if (close(fd) != 0) bad = 1;
  if (bad && !existing) unlinkat(dirfd, name, 0);
  return bad ? -1 : 0;
}

/* Numbers per file in writeBatch's meta (extract-native-writer.ts BATCH_FIELDS). */
#define BATCH_META 6

typedef struct {
  int dirfd;
  const char *name;
  int mode;
  double mtime;
  const uint8_t *data;
  size_t len;
} wfile_t;

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref *refs;
  uint32_t nrefs;
  char *names;
  wfile_t *files;
  int32_t from, to;
  int umask_bits, uid, gid;
  int32_t result;
} wbatch_t;

static void wbatch_free(napi_env env, wbatch_t *j) {
  for (uint32_t k = 0; k < j->nrefs; k++)
    if (j->refs[k]) napi_delete_reference(env, j->refs[k]);
  free(j->refs);
  free(j->names);
  free(j->files);
  free(j);
}

static void wbatch_execute(napi_env env, void *data) {
  wbatch_t *j = data;
  int32_t i = j->from;
  for (; i < j->to; i++) {
    const wfile_t *f = &j->files[i - j->from];
    if (write_one(f->dirfd, f->name, f->mode, f->mtime, f->data, f->len, j->umask_bits, j->uid, j->gid) != 0) break;
  }
  j->result = i;
}

/* Settles a threadpool job's promise: its number, or an Error when the job was cancelled. */
static void settle(napi_env env, napi_status status, napi_deferred deferred, double result, const char *cancelled) {
  napi_value v;
  if (status == napi_ok && napi_create_double(env, result, &v) == napi_ok) napi_resolve_deferred(env, deferred, v);
  else {
    napi_value msg, err;
    napi_create_string_utf8(env, cancelled, NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &err);
    napi_reject_deferred(env, deferred, err);
  }
}

static void wbatch_complete(napi_env env, napi_status status, void *data) {
  wbatch_t *j = data;
  settle(env, status, j->deferred, j->result, "backwing_fs: write job cancelled");
  napi_delete_async_work(env, j->work);
  wbatch_free(env, j);
}

/*
 * writeBatch(dirfds, names, meta, bufs, from, to, umask, uid, gid) → Promise<number>: the index of
 * the first file of [from, to) it did not write (`to` when it wrote them all), after writing them
 * in order with write_one on the libuv threadpool.
 *
 * Why: the main thread parses the tar stream and the writing of ~54,000 small files ran on a
 * second V8 isolate (a worker thread) that got every file copied into a transferred buffer. Here
 * the bytes are written straight from the inflated buffers the main thread already holds (bufs,
 * referenced until the promise settles), with no copy, no message cloning and no second V8.
 *
 * names: the files' last name components joined by "/" (a component never holds one), one per
 * meta row; meta per file: [dir index into dirfds, mode (& 01777 here), mtime, buf index, offset,
 * length]. dirfds are descriptors of checked directories that the caller keeps open until the
 * promise settles (its own duplicates: TargetGuard may close its held ones meanwhile). Everything
 * is read and checked here, on the calling thread; the first file whose name is not a plain
 * component or whose row points outside dirfds or its buffer ends the run there (JavaScript path).
 */
static napi_value write_batch(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9], promise, rname;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 9) {
    napi_throw_type_error(env, NULL, "writeBatch: 9 arguments expected");
    return NULL;
  }
  int32_t from, to, umask_bits, uid, gid;
  double *meta;
  size_t meta_len, ndirs, names_len;
  napi_typedarray_type tt;
  void *dirs_p;
  CHECK(napi_get_value_int32(env, argv[4], &from));
  CHECK(napi_get_value_int32(env, argv[5], &to));
  CHECK(napi_get_value_int32(env, argv[6], &umask_bits));
  CHECK(napi_get_value_int32(env, argv[7], &uid));
  CHECK(napi_get_value_int32(env, argv[8], &gid));
  if (napi_get_typedarray_info(env, argv[0], &tt, &ndirs, &dirs_p, NULL, NULL) != napi_ok || tt != napi_int32_array || !get_f64(env, argv[2], &meta, &meta_len)) {
    napi_throw_type_error(env, NULL, "writeBatch: dirfds must be an Int32Array and meta a Float64Array");
    return NULL;
  }
  const int32_t *dirfds = dirs_p;
  if (from < 0 || to < from || (size_t)to * BATCH_META > meta_len) {
    napi_throw_range_error(env, NULL, "writeBatch: from/to outside the batch");
    return NULL;
  }
  uint32_t nbufs;
  bool is_array = false;
  if (napi_is_array(env, argv[3], &is_array) != napi_ok || !is_array || napi_get_array_length(env, argv[3], &nbufs) != napi_ok) {
    napi_throw_type_error(env, NULL, "writeBatch: bufs must be an array");
    return NULL;
  }
  if (napi_get_value_string_utf8(env, argv[1], NULL, 0, &names_len) != napi_ok) {
    napi_throw_type_error(env, NULL, "writeBatch: names must be a string");
    return NULL;
  }
  wbatch_t *j = calloc(1, sizeof *j);
  if (!j) goto oom;
  j->names = malloc(names_len + 1);
  j->files = calloc((size_t)(to - from) + 1, sizeof *j->files);
  j->refs = calloc((size_t)nbufs + 1, sizeof *j->refs);
  const uint8_t **bufp = calloc((size_t)nbufs + 1, sizeof *bufp);
  size_t *buflen = calloc((size_t)nbufs + 1, sizeof *buflen);
  char *bufok = calloc((size_t)nbufs + 1, 1);
  if (!j->names || !j->files || !j->refs || !bufp || !buflen || !bufok) {
    free(bufp);
    free(buflen);
    free(bufok);
    wbatch_free(env, j);
    goto oom;
  }
  j->nrefs = nbufs;
  j->from = from;
  j->umask_bits = umask_bits;
  j->uid = uid;
  j->gid = gid;
  size_t got = 0;
  napi_get_value_string_utf8(env, argv[1], j->names, names_len + 1, &got);
  for (uint32_t k = 0; k < nbufs; k++) {
    napi_value b;
    uint8_t *p;
    size_t n;
    /* A slot that is not a Uint8Array stays unusable: files pointing at it end the run. */
    if (napi_get_element(env, argv[3], k, &b) != napi_ok || !get_bytes(env, b, &p, &n)) continue;
    if (napi_create_reference(env, b, 1, &j->refs[k]) != napi_ok) continue;
    bufp[k] = p; /* NULL for an empty array: only ever read for 0 bytes */
    buflen[k] = n;
    bufok[k] = 1;
  }
  /* Split the names: the i-th "/"-separated component is file i's name. */
  char *cur = j->names, *end = j->names + got;
  int32_t i = 0, stop = to;
  for (; i < to; i++) {
    char *slash = memchr(cur, '/', (size_t)(end - cur));
    char *next = slash ? slash + 1 : end;
    if (slash) *slash = 0;
    const size_t len = (size_t)((slash ? slash : end) - cur);
    if (i >= from) {
      const double *m = meta + (size_t)i * BATCH_META;
      const double dir = m[0], buf = m[3], off = m[4], dlen = m[5];
      const int plain = len > 0 && len < 4096 && !memchr(cur, 0, len) && !(len == 1 && cur[0] == '.') && !(len == 2 && cur[0] == '.' && cur[1] == '.');
      if (!plain || cur >= end || !(dir >= 0 && dir < (double)ndirs) || !(buf >= 0 && buf < (double)nbufs) || !bufok[(size_t)buf] || !(off >= 0 && dlen >= 0 && off + dlen <= (double)buflen[(size_t)buf])) {
        stop = i;
        break;
      }
      wfile_t *f = &j->files[i - from];
      f->dirfd = dirfds[(size_t)dir];
      f->name = cur;
      f->mode = (int)m[1] & 01777;
      f->mtime = m[2];
      f->data = dlen > 0 ? bufp[(size_t)buf] + (size_t)off : NULL;
      f->len = (size_t)dlen;
    }
    cur = next;
  }
  j->to = stop;
  free(bufp);
  free(buflen);
  free(bufok);
  if (napi_create_promise(env, &j->deferred, &promise) != napi_ok || napi_create_string_utf8(env, "backwing:writeBatch", NAPI_AUTO_LENGTH, &rname) != napi_ok ||
      napi_create_async_work(env, NULL, rname, wbatch_execute, wbatch_complete, j, &j->work) != napi_ok || napi_queue_async_work(env, j->work) != napi_ok) {
    wbatch_free(env, j);
    napi_throw_error(env, NULL, "backwing_fs: writeBatch could not be queued");
    return NULL;
  }
  return promise;
oom:
  napi_throw_error(env, NULL, "out of memory");
  return NULL;
}

/* dupFd(fd) → a new close-on-exec descriptor of the same open directory, or -1 (errno lost). */
static napi_value dup_fd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  int32_t fd;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
    napi_throw_type_error(env, NULL, "dupFd: a descriptor expected");
    return NULL;
  }
  CHECK(napi_create_int32(env, fcntl(fd, F_DUPFD_CLOEXEC, 0), &result));
  return result;
}

/* Numbers per header in scanHeaders' out (tar-parser.ts SCAN_FIELDS). */
#define SCAN_FIELDS 10

/* An octal field as tar-header.ts parseNumeric reads it; -1 for anything else (base-256, a bad digit). */
static int scan_octal(const uint8_t *p, int len, double *v) {
  if (p[0] & 0x80) return -1;
  int i = 0;
  while (i < len && (p[i] == 0x20 || p[i] == 0)) i++;
  double x = 0;
  for (; i < len; i++) {
    const uint8_t c = p[i];
    if (c == 0 || c == 0x20) break;
    if (c < '0' || c > '7') return -1;
    x = x * 8 + (c - '0');
  }
  *v = x;
  return 0;
}

/* Length of a NUL-terminated field that is plain ASCII (textField's fast case), else -1. */
static int scan_ascii(const uint8_t *p, int len) {
  int i = 0;
  for (; i < len && p[i] != 0; i++)
    if (p[i] & 0x80) return -1;
  return i;
}

/*
 * scanHeaders(buf, from, out, max) → how many consecutive tar entries starting at the header at
 * buf[from] it decoded (at most max), each wholly inside buf with its data and padding.
 *
 * Only the plain case, decoded exactly as TarParser/decodeHeader do: unsigned checksum right,
 * plain octal numbers, ASCII name/prefix/link, not a PAX or GNU long-name record. It stops before
 * the first header that is anything else (a zero block, a bad or signed checksum, base-256, a
 * non-ASCII name, an extended header, data running past buf) and TarParser's own code takes it
 * from there. Why: parsing headers one at a time in JavaScript was ~0.3 CPU-s of the small bench
 * tree's 55,805 entries on the main thread, the critical path of small-file extraction.
 * Per entry in out: header offset, type, mode, uid, gid, size, mtime, and the end offsets of the
 * name (from the header offset), the ustar prefix (from offset + 345; 0 = none) and the link
 * name (from offset + 157; 0 = none).
 */
static napi_value scan_headers(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], result;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint8_t *buf;
  size_t len, out_len;
  double *out, from_d;
  int32_t max;
  if (argc < 4 || !get_bytes(env, argv[0], &buf, &len) || !get_f64(env, argv[2], &out, &out_len) || napi_get_value_double(env, argv[1], &from_d) != napi_ok ||
      napi_get_value_int32(env, argv[3], &max) != napi_ok) {
    napi_throw_type_error(env, NULL, "scanHeaders: (Uint8Array, offset, Float64Array, max) expected");
    return NULL;
  }
  if (max < 0 || (size_t)max * SCAN_FIELDS > out_len || from_d < 0) max = 0;
  size_t pos = (size_t)from_d;
  int32_t n = 0;
  while (n < max && pos + 512 <= len) {
    const uint8_t *h = buf + pos;
    const uint8_t type = h[156];
    if (type == 'x' || type == 'g' || type == 'L' || type == 'K') break;
    double stored, mode, uid, gid, size, mtime;
    if (scan_octal(h + 148, 8, &stored) != 0) break;
    unsigned sum = 8 * 0x20;
    for (int k = 0; k < 148; k++) sum += h[k];
    for (int k = 156; k < 512; k++) sum += h[k];
    /* A zero block sums to 256 against a stored 0: it stops here too. */
    if ((double)sum != stored) break;
    if (scan_octal(h + 100, 8, &mode) || scan_octal(h + 108, 8, &uid) || scan_octal(h + 116, 8, &gid) || scan_octal(h + 124, 12, &size) || scan_octal(h + 136, 12, &mtime)) break;
    const int name_len = scan_ascii(h, 100);
    if (name_len < 0) break;
    int prefix_end = 0, link_end = 0;
    const int ustar = memcmp(h + 257, "ustar\0", 6) == 0;
    if (ustar && h[345] != 0) {
      const int l = scan_ascii(h + 345, 155);
      if (l < 0) break;
      prefix_end = 345 + l;
    }
    if (h[157] != 0) {
      const int l = scan_ascii(h + 157, 100);
      if (l < 0) break;
      link_end = 157 + l;
    }
    /* Types whose size means data follows: all but hard link .. FIFO (tar-parser.ts hasData). */
    const double data = (type >= '1' && type <= '6') ? 0 : size;
    const double next = (double)pos + 512 + data + (double)((512 - (uint64_t)data % 512) % 512);
    if (next > (double)len) break;
    double *o = out + (size_t)n * SCAN_FIELDS;
    o[0] = (double)pos;
    o[1] = type;
    o[2] = mode;
    o[3] = uid;
    o[4] = gid;
    o[5] = size;
    o[6] = mtime;
    o[7] = name_len;
    o[8] = prefix_end;
    o[9] = link_end;
    n++;
    pos = (size_t)next;
  }
  CHECK(napi_create_int32(env, n, &result));
  return result;
}

/*
 * readFiles(dir, names, from, to, buf, maxFile, out) → how many of names[from..to) it handled
 * (fewer when the next file does not fit the rest of `buf`).
 *
 * `dir` (string or bytes) is opened once, O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC; if that fails
 * it returns -1 and the caller archives the run its usual way. Each name is then, like the JS
 * walk's archiveFile: openat(dirfd, name, O_RDONLY|O_NOFOLLOW|O_NONBLOCK|O_CLOEXEC), fstat, exactly
 * st_size bytes read (fewer if it shrank), fstat again, close. Per file, READ_FIELDS numbers in
 * `out` at (i - from) * READ_FIELDS:
 *   [0] status: 0 read; 1 not handled here (open or read failed, not a regular file any more, over
 *       maxFile): the caller runs its usual per-file code for it, which decides gone/error/type;
 *   [1] offset of its bytes in buf, [2] size from the first fstat (the header's size), [3] bytes
 *   read, [4] mode & 07777, [5] uid, [6] gid, [7] mtime in whole seconds, [8] size from the second
 *   fstat, negated when the file changed (short read, or size or mtime moved between the fstats).
 */
static napi_value read_files(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 7) {
    napi_throw_type_error(env, NULL, "readFiles: 7 arguments expected");
    return NULL;
  }
  int32_t from, to;
  double max_file;
  uint8_t *buf;
  size_t buf_len, out_len;
  double *out;
  CHECK(napi_get_value_int32(env, argv[2], &from));
  CHECK(napi_get_value_int32(env, argv[3], &to));
  CHECK(napi_get_value_double(env, argv[5], &max_file));
  if (!get_bytes(env, argv[4], &buf, &buf_len) || !get_f64(env, argv[6], &out, &out_len)) {
    napi_throw_type_error(env, NULL, "readFiles: buf must be a Uint8Array and out a Float64Array");
    return NULL;
  }
  if (from < 0 || to < from || (size_t)(to - from) * READ_FIELDS > out_len) {
    napi_throw_range_error(env, NULL, "readFiles: from/to outside the result array");
    return NULL;
  }
  napi_value result;
  /* The directory path: a string or bytes. */
  char dpath[8192];
  napi_valuetype t;
  CHECK(napi_typeof(env, argv[0], &t));
  if (t == napi_string) {
    size_t len;
    CHECK(napi_get_value_string_utf8(env, argv[0], dpath, sizeof dpath, &len));
    if (len >= sizeof dpath - 1) goto refuse;
  } else {
    uint8_t *p;
    size_t len;
    if (!get_bytes(env, argv[0], &p, &len) || len >= sizeof dpath || memchr(p, 0, len)) goto refuse;
    memcpy(dpath, p, len);
    dpath[len] = 0;
  }
  int dirfd = open(dpath, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dirfd < 0) goto refuse;
  size_t used = 0;
  int32_t i = from;
  for (; i < to; i++) {
    double *o = out + (size_t)(i - from) * READ_FIELDS;
    napi_value nv;
    name_t name;
    if (napi_get_element(env, argv[1], (uint32_t)i, &nv) != napi_ok) {
      close(dirfd);
      napi_throw_error(env, NULL, "readFiles: names");
      return NULL;
    }
    o[0] = 1;
    if (!get_name(env, nv, &name)) continue;
    int fd = openat(dirfd, name.bytes, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) continue;
    struct stat st, after;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (double)st.st_size > max_file) {
      close(fd);
      continue;
    }
    size_t size = (size_t)st.st_size;
    if (size > buf_len - used) {
      close(fd);
      break; /* the caller empties buf and comes back for this one */
    }
    size_t got = 0;
    int bad = 0;
    while (got < size) {
      ssize_t n = pread(fd, buf + used + got, size - got, (off_t)got);
      if (n < 0) {
        if (errno == EINTR) continue;
        bad = 1;
        break;
      }
      if (n == 0) break; /* shrank: the caller pads with zeros */
      got += (size_t)n;
    }
    if (!bad) bad = fstat(fd, &after) != 0;
    close(fd);
    if (bad) continue;
    const int changed = got < size || after.st_size != st.st_size || after.st_mtim.tv_sec != st.st_mtim.tv_sec || after.st_mtim.tv_nsec != st.st_mtim.tv_nsec;
    o[0] = 0;
    o[1] = (double)used;
    o[2] = (double)size;
    o[3] = (double)got;
    o[4] = (double)(st.st_mode & 07777);
    o[5] = (double)st.st_uid;
    o[6] = (double)st.st_gid;
    /* Math.floor(mtimeMs / 1000) in the JS walk: tv_nsec is never negative. */
    o[7] = (double)st.st_mtim.tv_sec;
    o[8] = changed ? -(double)after.st_size - 1 : (double)after.st_size;
    used += size;
  }
  close(dirfd);
  CHECK(napi_create_int32(env, i - from, &result));
  return result;
refuse:
  CHECK(napi_create_int32(env, -1, &result));
  return result;
}


/*
 * Whole-member gzip through libdeflate (the Debian package libdeflate0, loaded with dlopen so the
 * addon builds without its headers and still loads without it). Each member of our archives is
 * one 1 MiB tar slice (gzip-member.ts), i.e. exactly the whole-buffer job libdeflate is made for.
 * Measured on the small bench tree's tar stream in 1 MiB slices, one core: see parallel-gzip.ts
 * and inflate.ts for the figures. The prototypes below are libdeflate's stable public API (1.0+).
 */
struct libdeflate_compressor;
struct libdeflate_decompressor;
static struct {
  struct libdeflate_compressor *(*alloc_compressor)(int);
  size_t (*gzip_compress)(struct libdeflate_compressor *, const void *, size_t, void *, size_t);
  struct libdeflate_decompressor *(*alloc_decompressor)(void);
  int (*gzip_decompress_ex)(struct libdeflate_decompressor *, const void *, size_t, void *, size_t, size_t *, size_t *);
} ld;
static int ld_ok = 0;
static pthread_once_t ld_once = PTHREAD_ONCE_INIT;

static void ld_load(void) {
  void *h = dlopen("libdeflate.so.0", RTLD_NOW | RTLD_LOCAL);
  if (!h) return;
  ld.alloc_compressor = (struct libdeflate_compressor * (*)(int)) dlsym(h, "libdeflate_alloc_compressor");
  ld.gzip_compress = (size_t(*)(struct libdeflate_compressor *, const void *, size_t, void *, size_t))dlsym(h, "libdeflate_gzip_compress");
  ld.alloc_decompressor = (struct libdeflate_decompressor * (*)(void)) dlsym(h, "libdeflate_alloc_decompressor");
  ld.gzip_decompress_ex = (int (*)(struct libdeflate_decompressor *, const void *, size_t, void *, size_t, size_t *, size_t *))dlsym(h, "libdeflate_gzip_decompress_ex");
  ld_ok = ld.alloc_compressor && ld.gzip_compress && ld.alloc_decompressor && ld.gzip_decompress_ex;
}

/* One compressor per level and one decompressor per threadpool thread: they are not thread-safe. */
static __thread struct libdeflate_compressor *tl_comp[10];
static __thread struct libdeflate_decompressor *tl_decomp;

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref in_ref, out_ref;
  const uint8_t *in;
  size_t in_len;
  uint8_t *out;
  size_t out_len;
  int inflate;
  int level;
  double result;
} gz_job_t;

static void gz_execute(napi_env env, void *data) {
  gz_job_t *j = data;
  if (!j->inflate) {
    struct libdeflate_compressor **c = &tl_comp[j->level];
    if (!*c) *c = ld.alloc_compressor(j->level);
    /* 0 when it does not fit out: the caller then uses zlib. */
    j->result = *c ? (double)ld.gzip_compress(*c, j->in, j->in_len, j->out, j->out_len) : 0;
    return;
  }
  if (!tl_decomp) tl_decomp = ld.alloc_decompressor();
  if (!tl_decomp) {
    j->result = -1;
    return;
  }
  size_t in_used = 0, out_used = 0;
  int r = ld.gzip_decompress_ex(tl_decomp, j->in, j->in_len, j->out, j->out_len, &in_used, &out_used);
  /* Only one exact, whole, CRC- and length-checked member counts; anything else is zlib's to judge. */
  j->result = (r == 0 && in_used == j->in_len && out_used == j->out_len) ? 0 : (r == 0 ? -2 : -(double)r - 10);
}

static void gz_complete(napi_env env, napi_status status, void *data) {
  gz_job_t *j = data;
  settle(env, status, j->deferred, j->result, "backwing_fs: gzip job cancelled");
  napi_delete_reference(env, j->in_ref);
  napi_delete_reference(env, j->out_ref);
  napi_delete_async_work(env, j->work);
  free(j);
}

/*
 * gzipMember(input, out, level) → Promise<number>: input deflated at level (1-9) as one gzip member
 * (MTIME 0, no name) into out; the compressed length, or 0 when out was too small.
 * gunzipMember(member, out) → Promise<number>: 0 when member is exactly one valid gzip member
 * (CRC32 and ISIZE checked by libdeflate) that inflates to exactly out.length bytes, else negative:
 * the caller then hands the member to zlib, whose error names the fault as before.
 * Both run on the libuv threadpool; input and out stay referenced until the promise settles.
 */
static napi_value gz_start(napi_env env, napi_callback_info info, int inflate) {
  size_t argc = 3;
  napi_value argv[3], promise, name;
  int32_t level = 1;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint8_t *in, *out;
  size_t in_len, out_len;
  if (argc < 2 || !get_bytes(env, argv[0], &in, &in_len) || !get_bytes(env, argv[1], &out, &out_len)) {
    napi_throw_type_error(env, NULL, "gzip: two Uint8Arrays expected");
    return NULL;
  }
  if (!inflate && (argc < 3 || napi_get_value_int32(env, argv[2], &level) != napi_ok || level < 1 || level > 9)) {
    napi_throw_range_error(env, NULL, "gzipMember: level 1-9 expected");
    return NULL;
  }
  if (!ld_ok) {
    napi_throw_error(env, NULL, "libdeflate is not loaded");
    return NULL;
  }
  gz_job_t *j = calloc(1, sizeof *j);
  if (!j) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  j->in = in;
  j->in_len = in_len;
  j->out = out;
  j->out_len = out_len;
  j->inflate = inflate;
  j->level = level;
  CHECK(napi_create_reference(env, argv[0], 1, &j->in_ref));
  CHECK(napi_create_reference(env, argv[1], 1, &j->out_ref));
  CHECK(napi_create_promise(env, &j->deferred, &promise));
  CHECK(napi_create_string_utf8(env, inflate ? "backwing:gunzip" : "backwing:gzip", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_create_async_work(env, NULL, name, gz_execute, gz_complete, j, &j->work));
  CHECK(napi_queue_async_work(env, j->work));
  return promise;
}

static napi_value gzip_member(napi_env env, napi_callback_info info) { return gz_start(env, info, 0); }
static napi_value gunzip_member(napi_env env, napi_callback_info info) { return gz_start(env, info, 1); }

/* verify_crc.c */
napi_value verify_crc32(napi_env env, napi_callback_info info);

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"writeFiles", NULL, write_files, NULL, NULL, NULL, napi_enumerable, NULL},
      {"readFiles", NULL, read_files, NULL, NULL, NULL, napi_enumerable, NULL},
      {"writeBatch", NULL, write_batch, NULL, NULL, NULL, napi_enumerable, NULL},
      {"dupFd", NULL, dup_fd, NULL, NULL, NULL, napi_enumerable, NULL},
      {"scanHeaders", NULL, scan_headers, NULL, NULL, NULL, napi_enumerable, NULL},
      {"gzipMember", NULL, gzip_member, NULL, NULL, NULL, napi_enumerable, NULL},
      {"gunzipMember", NULL, gunzip_member, NULL, NULL, NULL, napi_enumerable, NULL},
      {"crc32", NULL, verify_crc32, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  pthread_once(&ld_once, ld_load);
  napi_value has;
  if (napi_get_boolean(env, ld_ok, &has) != napi_ok || napi_set_named_property(env, exports, "libdeflate", has) != napi_ok) return NULL;
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
