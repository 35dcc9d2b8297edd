#ifndef CHECKPOINTKIT_CHDF5_H
#define CHECKPOINTKIT_CHDF5_H

// libhdf5's declarations and types. Debian keeps the serial build's headers in
// /usr/include/hdf5/serial; elsewhere (Homebrew, source builds) hdf5.h is on
// the include path.
#if __has_include(<hdf5/serial/hdf5.h>)
#include <hdf5/serial/hdf5.h>
#else
#include <hdf5.h>
#endif

// libhdf5 is loaded on first use, not linked.
//
// Linking it costs every `ckpt` run about 8 ms before main: libhdf5 pulls in
// libcurl (for its S3 driver) and with it gnutls, krb5, ldap and p11-kit,
// whose relocations and constructors run at start-up. Most runs never touch
// an HDF5 file, so the H5* functions Swift calls are defined in this target
// (hidden, so libhdf5 never binds to them) and forward to the real ones,
// which `ckh5_load` resolves with dlopen/dlsym.

/// Loads libhdf5 once (thread-safe) and resolves every function and global id
/// this target forwards to. Returns NULL on success, or a message naming the
/// libraries tried and why each failed (also on later calls).
///
/// The library is looked up as `$CKPT_LIBHDF5` when that is set, else by the
/// names of the release series the headers belong to (e.g.
/// `libhdf5_serial.so.103` for 1.10), and must report that same major.minor
/// version: the structs Swift sees (`H5O_info_t`, ...) are laid out for it.
const char *_Nullable ckh5_load(void);

// HDF5 spells its defaults, access flags and predefined types as macros that
// expand to casts or to global ids behind H5open(); Swift cannot import them,
// so each one is a function. The ids need `ckh5_load()` to have succeeded.

static inline hid_t ckh5_P_DEFAULT(void) { return H5P_DEFAULT; }
static inline hid_t ckh5_S_ALL(void) { return H5S_ALL; }
static inline hid_t ckh5_E_DEFAULT(void) { return H5E_DEFAULT; }
static inline size_t ckh5_T_VARIABLE(void) { return H5T_VARIABLE; }

// The H5F_ACC_* macros also call H5check(), which aborts the process when the
// library's release differs from the headers'; ckh5_load checks the version
// itself, so these are the bare flag values.
static inline unsigned ckh5_F_ACC_RDONLY(void) { return 0x0000u; }
static inline unsigned ckh5_F_ACC_TRUNC(void) { return 0x0002u; }
static inline unsigned ckh5_F_ACC_EXCL(void) { return 0x0004u; }

hid_t ckh5_P_DATASET_CREATE(void);
hid_t ckh5_P_LINK_CREATE(void);
hid_t ckh5_P_FILE_ACCESS(void);
hid_t ckh5_P_FILE_CREATE(void);
hid_t ckh5_P_GROUP_CREATE(void);

hid_t ckh5_T_C_S1(void);
hid_t ckh5_T_IEEE_F32LE(void);
hid_t ckh5_T_IEEE_F64LE(void);
hid_t ckh5_T_STD_I8LE(void);
hid_t ckh5_T_STD_I16LE(void);
hid_t ckh5_T_STD_I32LE(void);
hid_t ckh5_T_STD_I64LE(void);
hid_t ckh5_T_STD_U8LE(void);
hid_t ckh5_T_STD_U16LE(void);
hid_t ckh5_T_STD_U32LE(void);
hid_t ckh5_T_STD_U64LE(void);
hid_t ckh5_T_NATIVE_HBOOL(void);

#endif
