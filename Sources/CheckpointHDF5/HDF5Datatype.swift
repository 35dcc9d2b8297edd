internal import CHDF5
import CheckpointCore

/// How a stored HDF5 element type maps to a checkpoint dtype, and the memory
/// type libhdf5 converts it to on read (same width, little-endian).
struct HDF5Datatype {
  /// The checkpoint dtype, or `nil` when the type holds no numbers.
  var dtype: DType?
  /// The stored type in words.
  var description: String
  /// The memory type for `H5Dread`; `nil` when `dtype` is `nil`.
  var memoryType: HDF5Object?

  /// The dtype names Keras 3 and ml_dtypes store in a `dtype` attribute next to
  /// an opaque dataset (h5py has no bfloat16 or float8 type).
  static let opaqueDTypes: [String: DType] = [
    "bfloat16": .bf16, "float8_e4m3fn": .f8e4m3, "float8_e5m2": .f8e5m2,
  ]

  /// Classifies the type `type` (a datatype id owned by the caller).
  ///
  /// - Parameter dtypeAttribute: the dataset's `dtype` attribute, which names the
  ///   real type of opaque data (`bfloat16`).
  static func classify(_ type: hid_t, dtypeAttribute: String?) throws -> HDF5Datatype {
    let bytes = try HDF5Library.size("H5Tget_size") { Int(H5Tget_size(type)) }
    switch try HDF5Library.enumeration("H5Tget_class", { H5Tget_class(type) }) {
    case H5T_INTEGER:
      let signed = try HDF5Library.enumeration("H5Tget_sign", { H5Tget_sign(type) }) == H5T_SGN_2
      let order = try byteOrder(type)
      let description = "\(signed ? "i" : "u")\(bytes * 8)\(order)"
      guard try isPlain(type, bytes: bytes) else {
        return HDF5Datatype(dtype: nil, description: description + " (padded)")
      }
      let dtype: DType?
      switch (signed, bytes) {
      case (true, 1): dtype = .i8
      case (true, 2): dtype = .i16
      case (true, 4): dtype = .i32
      case (true, 8): dtype = .i64
      case (false, 1): dtype = .u8
      case (false, 2): dtype = .u16
      case (false, 4): dtype = .u32
      case (false, 8): dtype = .u64
      default: dtype = nil
      }
      return HDF5Datatype(
        dtype: dtype, description: description, memoryType: try littleEndianCopy(type, dtype))
    case H5T_FLOAT:
      let order = try byteOrder(type)
      let description = "f\(bytes * 8)\(order)"
      var spos = 0
      var epos = 0
      var esize = 0
      var mpos = 0
      var msize = 0
      try HDF5Library.call("H5Tget_fields") { H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize) }
      let bias = try HDF5Library.size("H5Tget_ebias") { Int(H5Tget_ebias(type)) }
      let fields = [spos, epos, esize, mpos, msize]
      let dtype: DType?
      switch bytes {
      case 2 where fields == [15, 10, 5, 0, 10] && bias == 15: dtype = .f16
      case 4 where fields == [31, 23, 8, 0, 23] && bias == 127: dtype = .f32
      case 8 where fields == [63, 52, 11, 0, 52] && bias == 1023: dtype = .f64
      case 2 where fields == [15, 7, 8, 0, 7] && bias == 127: dtype = .bf16
      default: dtype = nil
      }
      guard try isPlain(type, bytes: bytes) else {
        return HDF5Datatype(dtype: nil, description: description + " (padded)")
      }
      return HDF5Datatype(
        dtype: dtype, description: dtype == nil ? description + " (non-IEEE layout)" : description,
        memoryType: try littleEndianCopy(type, dtype))
    case H5T_OPAQUE:
      let description = "opaque \(bytes) bytes"
      if let name = dtypeAttribute, let dtype = opaqueDTypes[name], dtype.elementSize == bytes {
        let copy = try HDF5Object.make("H5Tcopy", .datatype) { H5Tcopy(type) }
        return HDF5Datatype(dtype: dtype, description: description + " (\(name))", memoryType: copy)
      }
      return HDF5Datatype(dtype: nil, description: description)
    case H5T_ENUM:
      // NumPy booleans in h5py: an 8-bit enum {FALSE = 0, TRUE = 1}.
      let members = try HDF5Library.call("H5Tget_nmembers") { H5Tget_nmembers(type) }
      if bytes == 1, members == 2, try enumNames(type) == ["FALSE", "TRUE"] {
        let copy = try HDF5Object.make("H5Tcopy", .datatype) { H5Tcopy(type) }
        return HDF5Datatype(dtype: .bool, description: "bool (enum)", memoryType: copy)
      }
      return HDF5Datatype(dtype: nil, description: "enum \(bytes) bytes")
    case H5T_STRING: return HDF5Datatype(dtype: nil, description: "string")
    case H5T_COMPOUND: return HDF5Datatype(dtype: nil, description: "compound")
    case H5T_REFERENCE: return HDF5Datatype(dtype: nil, description: "reference")
    case H5T_VLEN: return HDF5Datatype(dtype: nil, description: "variable length")
    case H5T_ARRAY: return HDF5Datatype(dtype: nil, description: "array")
    case H5T_BITFIELD: return HDF5Datatype(dtype: nil, description: "bitfield")
    case H5T_TIME: return HDF5Datatype(dtype: nil, description: "time")
    default: return HDF5Datatype(dtype: nil, description: "unknown type")
    }
  }

  private static func byteOrder(_ type: hid_t) throws -> String {
    switch try HDF5Library.enumeration("H5Tget_order", { H5Tget_order(type) }) {
    case H5T_ORDER_BE: return " big-endian"
    case H5T_ORDER_LE, H5T_ORDER_NONE: return ""
    default: return " mixed-endian"
    }
  }

  /// Whether all bits of the element are significant (no padding or offset).
  private static func isPlain(_ type: hid_t, bytes: Int) throws -> Bool {
    let bits = try HDF5Library.size("H5Tget_precision") { Int(H5Tget_precision(type)) }
    let offset = try HDF5Library.call("H5Tget_offset") { H5Tget_offset(type) }
    let order = try HDF5Library.enumeration("H5Tget_order", { H5Tget_order(type) })
    return bits == bytes * 8 && offset == 0 && (order == H5T_ORDER_LE || order == H5T_ORDER_BE || bytes == 1)
  }

  private static func littleEndianCopy(_ type: hid_t, _ dtype: DType?) throws -> HDF5Object? {
    guard dtype != nil else { return nil }
    let copy = try HDF5Object.make("H5Tcopy", .datatype) { H5Tcopy(type) }
    if try HDF5Library.size("H5Tget_size", { Int(H5Tget_size(type)) }) > 1 {
      try HDF5Library.call("H5Tset_order") { H5Tset_order(copy.id, H5T_ORDER_LE) }
    }
    return copy
  }

  private static func enumNames(_ type: hid_t) throws -> [String] {
    try HDF5Library.locked {
      var names: [String] = []
      for index in 0..<2 {
        guard let pointer = H5Tget_member_name(type, UInt32(index)) else {
          throw CheckpointError(.corrupt, "H5Tget_member_name failed")
        }
        names.append(String(cString: pointer))
        H5free_memory(pointer)
      }
      return names
    }
  }
}
