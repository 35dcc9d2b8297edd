import CheckpointCore

/// How an `.npy` array's bytes map to a CheckpointKit tensor: its dtype,
/// whether elements are big-endian, whether the order is Fortran's, and its size.
///
/// dtype strings: `<f8 <f4 <f2 <i8 <i4 <i2 |i1 |u1 <u2 <u4 <u8 |b1` (also
/// spelled with `=` or `|`, native being little-endian on every supported
/// platform), their big-endian `>` forms (byte-swapped on load), and `<V2`
/// (or `|V2`) for BF16: numpy has no bfloat16, and `ml_dtypes.bfloat16`
/// arrays are saved as two-byte opaque voids with that descr. Object,
/// string, datetime, complex, long-double and structured dtypes are refused.
struct NPYArrayLayout: Sendable {
  var dtype: DType
  var shape: [Int]
  var swapsBytes: Bool
  var fortranOrder: Bool
  var byteCount: Int

  /// The layout of the array `header` describes.
  ///
  /// - Throws: `.unsupportedDType` for dtypes other than the listed ones,
  ///   `.invalidShape` when the byte count overflows.
  init(_ header: NPYHeader) throws {
    let (dtype, swaps) = try NPYArrayLayout.dtype(descr: header.descr)
    self.dtype = dtype
    self.shape = header.shape
    self.swapsBytes = swaps
    self.fortranOrder = header.fortranOrder
    self.byteCount = try Shape.byteCount(header.shape, dtype: dtype)
  }

  /// Whether the stored bytes already are little-endian C-order.
  var isCanonical: Bool {
    !swapsBytes && (!fortranOrder || shape.count < 2)
  }

  /// The dtype string CheckpointKit writes for `dtype`, or `nil` when numpy
  /// cannot hold it (F8 and block-quantized types).
  static func descr(for dtype: DType) -> String? {
    switch dtype {
    case .f64: return "<f8"
    case .f32: return "<f4"
    case .f16: return "<f2"
    case .bf16: return "<V2"
    case .i64: return "<i8"
    case .i32: return "<i4"
    case .i16: return "<i2"
    case .i8: return "|i1"
    case .u64: return "<u8"
    case .u32: return "<u4"
    case .u16: return "<u2"
    case .u8: return "|u1"
    case .bool: return "|b1"
    case .f8e4m3, .f8e5m2, .q8_0, .q4_0: return nil
    }
  }

  /// The dtype for a numpy dtype string, and whether its bytes need swapping.
  static func dtype(descr: String) throws -> (DType, swapsBytes: Bool) {
    let bytes = Array(descr.utf8)
    guard let order = bytes.first, "<>=|".utf8.contains(order), bytes.count >= 2 else {
      throw CheckpointError(.unsupportedDType, "unsupported numpy dtype '\(descr)' (no byte order character)")
    }
    let code = String(decoding: bytes.dropFirst(), as: UTF8.self)
    let table: [String: DType] = [
      "f8": .f64, "f4": .f32, "f2": .f16, "V2": .bf16,
      "i8": .i64, "i4": .i32, "i2": .i16, "i1": .i8,
      "u8": .u64, "u4": .u32, "u2": .u16, "u1": .u8, "b1": .bool,
    ]
    guard let dtype = table[code] else {
      let kind: String
      switch code.first {
      case "O": kind = "object arrays hold pickled Python objects and are refused"
      case "U", "S", "a": kind = "string dtypes are not supported"
      case "M", "m": kind = "datetime dtypes are not supported"
      case "c": kind = "complex dtypes are not supported"
      case "V": kind = "opaque void dtypes other than V2 (bfloat16) are not supported"
      default: kind = "not a supported dtype"
      }
      throw CheckpointError(.unsupportedDType, "numpy dtype '\(descr)': \(kind)")
    }
    return (dtype, order == UInt8(ascii: ">") && dtype.blockBytes > 1)
  }

  /// `bytes` (the stored array data) as little-endian, C-order bytes.
  func canonical(_ bytes: TensorBytes) -> TensorBytes {
    guard !isCanonical, bytes.count > 0 else { return bytes }
    let size = dtype.blockBytes
    let count = bytes.count / size
    return bytes.withUnsafeBytes { source in
      TensorBytes.allocate(count: bytes.count) { target in
        guard let src = source.baseAddress, let dst = target.baseAddress else { return }
        switch size {
        case 8: reorder(UInt64.self, src, dst, count)
        case 4: reorder(UInt32.self, src, dst, count)
        case 2: reorder(UInt16.self, src, dst, count)
        default: reorder(UInt8.self, src, dst, count)
        }
      }
    }
  }

  /// Copies `count` elements, transposing Fortran order to C order and swapping bytes as needed.
  private func reorder<T: FixedWidthInteger>(
    _: T.Type, _ src: UnsafeRawPointer, _ dst: UnsafeMutableRawPointer, _ count: Int
  ) {
    let size = MemoryLayout<T>.size
    let swaps = swapsBytes
    @inline(__always) func copy(_ from: Int, _ to: Int) {
      let value = src.loadUnaligned(fromByteOffset: from * size, as: T.self)
      dst.storeBytes(of: swaps ? value.byteSwapped : value, toByteOffset: to * size, as: T.self)
    }
    guard fortranOrder, shape.count >= 2 else {
      for i in 0..<count { copy(i, i) }
      return
    }
    // Element strides of the Fortran layout: the first axis varies fastest.
    let rank = shape.count
    var strides = [Int](repeating: 1, count: rank)
    for axis in 1..<rank { strides[axis] = strides[axis - 1] * shape[axis - 1] }
    let inner = shape[rank - 1]
    let innerStride = strides[rank - 1]
    var index = [Int](repeating: 0, count: rank)
    var base = 0
    var out = 0
    while out < count {
      var from = base
      for _ in 0..<inner {
        copy(from, out)
        out += 1
        from += innerStride
      }
      // Advance the C-order odometer over the outer axes.
      var axis = rank - 2
      while axis >= 0 {
        index[axis] += 1
        base += strides[axis]
        if index[axis] < shape[axis] { break }
        base -= strides[axis] * shape[axis]
        index[axis] = 0
        axis -= 1
      }
    }
  }
}
