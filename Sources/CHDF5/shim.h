#ifndef CHECKPOINTKIT_CHDF5_SHIM_H
#define CHECKPOINTKIT_CHDF5_SHIM_H

// The include path comes from pkg-config (`hdf5`), e.g. /usr/include/hdf5/serial.
#include <hdf5.h>

// HDF5 spells its defaults, access flags and predefined types as macros that
// expand to casts or to global ids behind H5open(); Swift cannot import them,
// so each one is wrapped in a static inline function.

static inline hid_t ckh5_P_DEFAULT(void) { return H5P_DEFAULT; }
static inline hid_t ckh5_S_ALL(void) { return H5S_ALL; }
static inline hid_t ckh5_E_DEFAULT(void) { return H5E_DEFAULT; }
static inline size_t ckh5_T_VARIABLE(void) { return H5T_VARIABLE; }

static inline unsigned ckh5_F_ACC_RDONLY(void) { return H5F_ACC_RDONLY; }
static inline unsigned ckh5_F_ACC_TRUNC(void) { return H5F_ACC_TRUNC; }
static inline unsigned ckh5_F_ACC_EXCL(void) { return H5F_ACC_EXCL; }

static inline hid_t ckh5_P_DATASET_CREATE(void) { return H5P_DATASET_CREATE; }
static inline hid_t ckh5_P_LINK_CREATE(void) { return H5P_LINK_CREATE; }
static inline hid_t ckh5_P_FILE_ACCESS(void) { return H5P_FILE_ACCESS; }
static inline hid_t ckh5_P_FILE_CREATE(void) { return H5P_FILE_CREATE; }
static inline hid_t ckh5_P_GROUP_CREATE(void) { return H5P_GROUP_CREATE; }

static inline hid_t ckh5_T_C_S1(void) { return H5T_C_S1; }
static inline hid_t ckh5_T_IEEE_F32LE(void) { return H5T_IEEE_F32LE; }
static inline hid_t ckh5_T_IEEE_F64LE(void) { return H5T_IEEE_F64LE; }
static inline hid_t ckh5_T_STD_I8LE(void) { return H5T_STD_I8LE; }
static inline hid_t ckh5_T_STD_I16LE(void) { return H5T_STD_I16LE; }
static inline hid_t ckh5_T_STD_I32LE(void) { return H5T_STD_I32LE; }
static inline hid_t ckh5_T_STD_I64LE(void) { return H5T_STD_I64LE; }
static inline hid_t ckh5_T_STD_U8LE(void) { return H5T_STD_U8LE; }
static inline hid_t ckh5_T_STD_U16LE(void) { return H5T_STD_U16LE; }
static inline hid_t ckh5_T_STD_U32LE(void) { return H5T_STD_U32LE; }
static inline hid_t ckh5_T_STD_U64LE(void) { return H5T_STD_U64LE; }
static inline hid_t ckh5_T_NATIVE_HBOOL(void) { return H5T_NATIVE_HBOOL; }

#endif
