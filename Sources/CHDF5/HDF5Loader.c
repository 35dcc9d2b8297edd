// Lazy binding of libhdf5: see include/CHDF5.h.

#include "CHDF5.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Every libhdf5 function Swift calls: X(return type, name, (parameters), (arguments)).
// Each definition must match hdf5.h's declaration, so the compiler checks the
// forwarding signatures against the headers the Swift side imports.
// clang-format off
#define CKH5_FUNCTIONS(X) \
  X(herr_t, H5open, (void), ()) \
  X(herr_t, H5get_libversion, (unsigned *majnum, unsigned *minnum, unsigned *relnum), (majnum, minnum, relnum)) \
  X(herr_t, H5Aclose, (hid_t attr_id), (attr_id)) \
  X(hid_t, H5Acreate2, (hid_t loc_id, const char *attr_name, hid_t type_id, hid_t space_id, hid_t acpl_id, hid_t aapl_id), (loc_id, attr_name, type_id, space_id, acpl_id, aapl_id)) \
  X(ssize_t, H5Aget_name, (hid_t attr_id, size_t buf_size, char *buf), (attr_id, buf_size, buf)) \
  X(hid_t, H5Aget_space, (hid_t attr_id), (attr_id)) \
  X(hid_t, H5Aget_type, (hid_t attr_id), (attr_id)) \
  X(hid_t, H5Aopen_by_idx, (hid_t loc_id, const char *obj_name, H5_index_t idx_type, H5_iter_order_t order, hsize_t n, hid_t aapl_id, hid_t lapl_id), (loc_id, obj_name, idx_type, order, n, aapl_id, lapl_id)) \
  X(herr_t, H5Aread, (hid_t attr_id, hid_t type_id, void *buf), (attr_id, type_id, buf)) \
  X(herr_t, H5Awrite, (hid_t attr_id, hid_t type_id, const void *buf), (attr_id, type_id, buf)) \
  X(herr_t, H5Dclose, (hid_t dset_id), (dset_id)) \
  X(hid_t, H5Dcreate2, (hid_t loc_id, const char *name, hid_t type_id, hid_t space_id, hid_t lcpl_id, hid_t dcpl_id, hid_t dapl_id), (loc_id, name, type_id, space_id, lcpl_id, dcpl_id, dapl_id)) \
  X(hid_t, H5Dget_create_plist, (hid_t dset_id), (dset_id)) \
  X(hid_t, H5Dget_space, (hid_t dset_id), (dset_id)) \
  X(hsize_t, H5Dget_storage_size, (hid_t dset_id), (dset_id)) \
  X(hid_t, H5Dget_type, (hid_t dset_id), (dset_id)) \
  X(hid_t, H5Dopen2, (hid_t loc_id, const char *name, hid_t dapl_id), (loc_id, name, dapl_id)) \
  X(herr_t, H5Dread, (hid_t dset_id, hid_t mem_type_id, hid_t mem_space_id, hid_t file_space_id, hid_t dxpl_id, void *buf), (dset_id, mem_type_id, mem_space_id, file_space_id, dxpl_id, buf)) \
  X(herr_t, H5Dvlen_reclaim, (hid_t type_id, hid_t space_id, hid_t dxpl_id, void *buf), (type_id, space_id, dxpl_id, buf)) \
  X(herr_t, H5Dwrite, (hid_t dset_id, hid_t mem_type_id, hid_t mem_space_id, hid_t file_space_id, hid_t dxpl_id, const void *buf), (dset_id, mem_type_id, mem_space_id, file_space_id, dxpl_id, buf)) \
  X(herr_t, H5Eclose_stack, (hid_t stack_id), (stack_id)) \
  X(hid_t, H5Eget_current_stack, (void), ()) \
  X(ssize_t, H5Eget_msg, (hid_t msg_id, H5E_type_t *type, char *msg, size_t size), (msg_id, type, msg, size)) \
  X(herr_t, H5Eset_auto2, (hid_t estack_id, H5E_auto2_t func, void *client_data), (estack_id, func, client_data)) \
  X(herr_t, H5Ewalk2, (hid_t err_stack, H5E_direction_t direction, H5E_walk2_t func, void *client_data), (err_stack, direction, func, client_data)) \
  X(herr_t, H5Fclose, (hid_t file_id), (file_id)) \
  X(hid_t, H5Fcreate, (const char *filename, unsigned flags, hid_t fcpl_id, hid_t fapl_id), (filename, flags, fcpl_id, fapl_id)) \
  X(herr_t, H5Fflush, (hid_t object_id, H5F_scope_t scope), (object_id, scope)) \
  X(hid_t, H5Fopen, (const char *filename, unsigned flags, hid_t fapl_id), (filename, flags, fapl_id)) \
  X(herr_t, H5Gclose, (hid_t group_id), (group_id)) \
  X(hid_t, H5Gcreate2, (hid_t loc_id, const char *name, hid_t lcpl_id, hid_t gcpl_id, hid_t gapl_id), (loc_id, name, lcpl_id, gcpl_id, gapl_id)) \
  X(hid_t, H5Gget_create_plist, (hid_t group_id), (group_id)) \
  X(herr_t, H5Gget_info, (hid_t loc_id, H5G_info_t *ginfo), (loc_id, ginfo)) \
  X(hid_t, H5Gopen2, (hid_t loc_id, const char *name, hid_t gapl_id), (loc_id, name, gapl_id)) \
  X(herr_t, H5Lget_info, (hid_t loc_id, const char *name, H5L_info_t *linfo, hid_t lapl_id), (loc_id, name, linfo, lapl_id)) \
  X(ssize_t, H5Lget_name_by_idx, (hid_t loc_id, const char *group_name, H5_index_t idx_type, H5_iter_order_t order, hsize_t n, char *name , size_t size, hid_t lapl_id), (loc_id, group_name, idx_type, order, n, name, size, lapl_id)) \
  X(herr_t, H5Oget_info2, (hid_t loc_id, H5O_info_t *oinfo, unsigned fields), (loc_id, oinfo, fields)) \
  X(herr_t, H5Oget_info_by_name2, (hid_t loc_id, const char *name, H5O_info_t *oinfo, unsigned fields, hid_t lapl_id), (loc_id, name, oinfo, fields, lapl_id)) \
  X(herr_t, H5Pclose, (hid_t plist_id), (plist_id)) \
  X(hid_t, H5Pcreate, (hid_t cls_id), (cls_id)) \
  X(int, H5Pget_chunk, (hid_t plist_id, int max_ndims, hsize_t dim[]), (plist_id, max_ndims, dim)) \
  X(H5Z_filter_t, H5Pget_filter2, (hid_t plist_id, unsigned idx, unsigned int *flags , size_t *cd_nelmts , unsigned cd_values[] , size_t namelen, char name[], unsigned *filter_config), (plist_id, idx, flags, cd_nelmts, cd_values, namelen, name, filter_config)) \
  X(H5D_layout_t, H5Pget_layout, (hid_t plist_id), (plist_id)) \
  X(herr_t, H5Pget_link_creation_order, (hid_t plist_id, unsigned *crt_order_flags), (plist_id, crt_order_flags)) \
  X(int, H5Pget_nfilters, (hid_t plist_id), (plist_id)) \
  X(herr_t, H5Pset_chunk, (hid_t plist_id, int ndims, const hsize_t dim[ ]), (plist_id, ndims, dim)) \
  X(herr_t, H5Pset_deflate, (hid_t plist_id, unsigned level), (plist_id, level)) \
  X(herr_t, H5Pset_link_creation_order, (hid_t plist_id, unsigned crt_order_flags), (plist_id, crt_order_flags)) \
  X(herr_t, H5Pset_shuffle, (hid_t plist_id), (plist_id)) \
  X(herr_t, H5Sclose, (hid_t space_id), (space_id)) \
  X(hid_t, H5Screate, (H5S_class_t type), (type)) \
  X(hid_t, H5Screate_simple, (int rank, const hsize_t dims[], const hsize_t maxdims[]), (rank, dims, maxdims)) \
  X(int, H5Sget_simple_extent_dims, (hid_t space_id, hsize_t dims[], hsize_t maxdims[]), (space_id, dims, maxdims)) \
  X(int, H5Sget_simple_extent_ndims, (hid_t space_id), (space_id)) \
  X(H5S_class_t, H5Sget_simple_extent_type, (hid_t space_id), (space_id)) \
  X(herr_t, H5Tclose, (hid_t type_id), (type_id)) \
  X(hid_t, H5Tcopy, (hid_t type_id), (type_id)) \
  X(hid_t, H5Tcreate, (H5T_class_t type, size_t size), (type, size)) \
  X(hid_t, H5Tenum_create, (hid_t base_id), (base_id)) \
  X(herr_t, H5Tenum_insert, (hid_t type, const char *name, const void *value), (type, name, value)) \
  X(H5T_class_t, H5Tget_class, (hid_t type_id), (type_id)) \
  X(H5T_cset_t, H5Tget_cset, (hid_t type_id), (type_id)) \
  X(size_t, H5Tget_ebias, (hid_t type_id), (type_id)) \
  X(herr_t, H5Tget_fields, (hid_t type_id, size_t *spos , size_t *epos , size_t *esize , size_t *mpos , size_t *msize), (type_id, spos, epos, esize, mpos, msize)) \
  X(char *, H5Tget_member_name, (hid_t type_id, unsigned membno), (type_id, membno)) \
  X(int, H5Tget_nmembers, (hid_t type_id), (type_id)) \
  X(int, H5Tget_offset, (hid_t type_id), (type_id)) \
  X(H5T_order_t, H5Tget_order, (hid_t type_id), (type_id)) \
  X(size_t, H5Tget_precision, (hid_t type_id), (type_id)) \
  X(H5T_sign_t, H5Tget_sign, (hid_t type_id), (type_id)) \
  X(size_t, H5Tget_size, (hid_t type_id), (type_id)) \
  X(H5T_str_t, H5Tget_strpad, (hid_t type_id), (type_id)) \
  X(htri_t, H5Tis_variable_str, (hid_t type_id), (type_id)) \
  X(herr_t, H5Tset_cset, (hid_t type_id, H5T_cset_t cset), (type_id, cset)) \
  X(herr_t, H5Tset_ebias, (hid_t type_id, size_t ebias), (type_id, ebias)) \
  X(herr_t, H5Tset_fields, (hid_t type_id, size_t spos, size_t epos, size_t esize, size_t mpos, size_t msize), (type_id, spos, epos, esize, mpos, msize)) \
  X(herr_t, H5Tset_order, (hid_t type_id, H5T_order_t order), (type_id, order)) \
  X(herr_t, H5Tset_size, (hid_t type_id, size_t size), (type_id, size)) \
  X(herr_t, H5Tset_strpad, (hid_t type_id, H5T_str_t strpad), (type_id, strpad)) \
  X(htri_t, H5Zfilter_avail, (H5Z_filter_t id), (id)) \
  X(herr_t, H5free_memory, (void *mem), (mem))

// The global ids behind H5P_* and H5T_* (valid after H5open()).
#define CKH5_IDS(X) \
  X(P_DATASET_CREATE, H5P_CLS_DATASET_CREATE_ID_g) \
  X(P_LINK_CREATE, H5P_CLS_LINK_CREATE_ID_g) \
  X(P_FILE_ACCESS, H5P_CLS_FILE_ACCESS_ID_g) \
  X(P_FILE_CREATE, H5P_CLS_FILE_CREATE_ID_g) \
  X(P_GROUP_CREATE, H5P_CLS_GROUP_CREATE_ID_g) \
  X(T_C_S1, H5T_C_S1_g) \
  X(T_IEEE_F32LE, H5T_IEEE_F32LE_g) \
  X(T_IEEE_F64LE, H5T_IEEE_F64LE_g) \
  X(T_STD_I8LE, H5T_STD_I8LE_g) \
  X(T_STD_I16LE, H5T_STD_I16LE_g) \
  X(T_STD_I32LE, H5T_STD_I32LE_g) \
  X(T_STD_I64LE, H5T_STD_I64LE_g) \
  X(T_STD_U8LE, H5T_STD_U8LE_g) \
  X(T_STD_U16LE, H5T_STD_U16LE_g) \
  X(T_STD_U32LE, H5T_STD_U32LE_g) \
  X(T_STD_U64LE, H5T_STD_U64LE_g) \
  X(T_NATIVE_HBOOL, H5T_NATIVE_HBOOL_g)
// clang-format on

#define CKH5_HIDDEN __attribute__((visibility("hidden")))

// The resolved addresses.
#define CKH5_POINTER(ret, name, params, args) static ret(*ckh5_real_##name) params;
CKH5_FUNCTIONS(CKH5_POINTER)
#define CKH5_ID_POINTER(shim, symbol) static hid_t *ckh5_id_##shim;
CKH5_IDS(CKH5_ID_POINTER)

/// Reached only when Swift calls libhdf5 without a successful `ckh5_load()`,
/// which CheckpointHDF5's gate never does: a programming error, not bad input.
static void ckh5_unloaded(const char *name) {
  fprintf(stderr, "CheckpointKit internal error: %s called before libhdf5 was loaded\n", name);
  abort();
}

// The forwarding definitions. Hidden: the executable does not export them, so
// libhdf5's own calls between its functions never come back through here.
#define CKH5_FORWARD(ret, name, params, args) \
  CKH5_HIDDEN ret name params { \
    if (ckh5_real_##name == NULL) ckh5_unloaded(#name); \
    return ckh5_real_##name args; \
  }
CKH5_FUNCTIONS(CKH5_FORWARD)

#define CKH5_ID_SHIM(shim, symbol) \
  hid_t ckh5_##shim(void) { \
    if (ckh5_id_##shim == NULL) ckh5_unloaded(#symbol); \
    H5open(); \
    return *ckh5_id_##shim; \
  }
CKH5_IDS(CKH5_ID_SHIM)

#define CKH5_STRINGIFY2(x) #x
#define CKH5_STRINGIFY(x) CKH5_STRINGIFY2(x)

// The shared-object version of each HDF5 release series (libtool's, as the
// upstream build and Debian/Ubuntu install it).
#if H5_VERS_MAJOR == 1 && H5_VERS_MINOR == 10
#define CKH5_SOVERSION "103"
#elif H5_VERS_MAJOR == 1 && H5_VERS_MINOR == 12
#define CKH5_SOVERSION "200"
#elif H5_VERS_MAJOR == 1 && H5_VERS_MINOR == 14
#define CKH5_SOVERSION "310"
#else
#define CKH5_SOVERSION ""
#endif

static pthread_once_t ckh5_once = PTHREAD_ONCE_INIT;
static char ckh5_error[2048];
static int ckh5_ok;

static void ckh5_append(const char *text) {
  size_t used = strlen(ckh5_error);
  if (used + 1 < sizeof ckh5_error) snprintf(ckh5_error + used, sizeof ckh5_error - used, "%s", text);
}

/// Resolves every symbol from `handle`; returns 0 and appends to the message on a missing one.
static int ckh5_resolve(void *handle, const char *name) {
  void *symbol;
#define CKH5_RESOLVE(ret, fname, params, args) \
  symbol = dlsym(handle, #fname); \
  if (symbol == NULL) goto missing_##fname; \
  memcpy(&ckh5_real_##fname, &symbol, sizeof symbol);
  CKH5_FUNCTIONS(CKH5_RESOLVE)
#define CKH5_RESOLVE_ID(shim, sym) \
  symbol = dlsym(handle, #sym); \
  if (symbol == NULL) goto missing_##shim; \
  ckh5_id_##shim = (hid_t *)symbol;
  CKH5_IDS(CKH5_RESOLVE_ID)
  return 1;
#define CKH5_MISSING(ret, fname, params, args) \
  missing_##fname : ckh5_append(name); \
  ckh5_append(": has no symbol " #fname "; "); \
  return 0;
  CKH5_FUNCTIONS(CKH5_MISSING)
#define CKH5_MISSING_ID(shim, sym) \
  missing_##shim : ckh5_append(name); \
  ckh5_append(": has no symbol " #sym "; "); \
  return 0;
  CKH5_IDS(CKH5_MISSING_ID)
}

static void ckh5_clear(void) {
#define CKH5_CLEAR(ret, name, params, args) ckh5_real_##name = NULL;
  CKH5_FUNCTIONS(CKH5_CLEAR)
#define CKH5_CLEAR_ID(shim, sym) ckh5_id_##shim = NULL;
  CKH5_IDS(CKH5_CLEAR_ID)
}

/// Opens `name` and accepts it if it has every symbol and the headers' major.minor version.
static int ckh5_try(const char *name) {
  void *handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);
  if (handle == NULL) {
    const char *why = dlerror();
    ckh5_append(why ? why : name);
    ckh5_append("; ");
    return 0;
  }
  if (!ckh5_resolve(handle, name)) {
    ckh5_clear();
    dlclose(handle);
    return 0;
  }
  unsigned major = 0, minor = 0, release = 0;
  if (ckh5_real_H5get_libversion(&major, &minor, &release) < 0 || major != H5_VERS_MAJOR
      || minor != H5_VERS_MINOR) {
    char text[256];
    snprintf(text, sizeof text, "%s: is HDF5 %u.%u.%u, but ckpt was built for %d.%d; ", name, major,
             minor, release, H5_VERS_MAJOR, H5_VERS_MINOR);
    ckh5_append(text);
    ckh5_clear();
    dlclose(handle);
    return 0;
  }
  return 1;
}

static void ckh5_load_once(void) {
  const char *explicit = getenv("CKPT_LIBHDF5");
  if (explicit != NULL && explicit[0] != '\0') {
    ckh5_ok = ckh5_try(explicit);
  } else {
    static const char *const names[] = {
#ifdef __APPLE__
      "libhdf5." CKH5_SOVERSION ".dylib",
      "libhdf5.dylib",
      "/opt/homebrew/lib/libhdf5.dylib",
      "/usr/local/lib/libhdf5.dylib",
#else
      "libhdf5_serial.so." CKH5_SOVERSION,
      "libhdf5.so." CKH5_SOVERSION,
      "libhdf5_serial.so",
      "libhdf5.so",
#endif
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !ckh5_ok; i++) {
      ckh5_ok = ckh5_try(names[i]);
    }
  }
  if (!ckh5_ok) {
    size_t used = strlen(ckh5_error);
    if (used >= 2) ckh5_error[used - 2] = '\0';  // the last "; "
    char tail[256];
    snprintf(tail, sizeof tail,
             " (HDF5 files need libhdf5 %d.%d: install it, e.g. apt-get install libhdf5-dev, or set "
             "CKPT_LIBHDF5 to its path)",
             H5_VERS_MAJOR, H5_VERS_MINOR);
    ckh5_append(tail);
  }
}

const char *ckh5_load(void) {
  pthread_once(&ckh5_once, ckh5_load_once);
  return ckh5_ok ? NULL : ckh5_error;
}
