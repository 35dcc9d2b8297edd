import CheckpointCore

/// A tensor's values in memory as raw row-major bytes: what the layout transforms move around.
///
/// Every operation except ``sum(_:)`` is pure data movement on whole elements of any dtype,
/// so it is bit-exact and exactly invertible.
struct ArrayBlock {
  var dtype: DType
  var shape: [Int]
  var bytes: [UInt8]
  /// A block that carries only dtype and shape: every operation computes the result's shape
  /// without touching bytes (used to know converted shapes before loading anything).
  var symbolic = false

  var elementSize: Int { dtype.elementSize ?? 1 }

  /// Loads `tensor`, refusing block-quantized dtypes (their elements cannot be moved one by one).
  static func load(_ tensor: Tensor) throws -> ArrayBlock {
    guard tensor.dtype.elementSize != nil else {
      throw CheckpointError(
        .unsupportedDType, "layout conversion moves single elements; \(tensor.dtype) is block-quantized",
        tensor: tensor.name)
    }
    return ArrayBlock(dtype: tensor.dtype, shape: tensor.shape, bytes: try tensor.load().array)
  }

  /// The block as a tensor named `name`.
  /// A shape-only block for `tensor`.
  static func symbolic(_ tensor: Tensor) -> ArrayBlock {
    ArrayBlock(dtype: tensor.dtype, shape: tensor.shape, bytes: [], symbolic: true)
  }

  func tensor(_ name: String) throws -> Tensor {
    try Tensor(name: name, dtype: dtype, shape: shape, bytes: TensorBytes(bytes))
  }

  /// Moves axes: `result.shape[i] == shape[order[i]]`.
  func permuted(_ order: [Int]) -> ArrayBlock {
    let rank = shape.count
    let size = elementSize
    var strides = [Int](repeating: 1, count: rank)
    if rank > 1 {
      for axis in stride(from: rank - 2, through: 0, by: -1) {
        strides[axis] = strides[axis + 1] * shape[axis + 1]
      }
    }
    let newShape = order.map { shape[$0] }
    if symbolic { return ArrayBlock(dtype: dtype, shape: newShape, bytes: [], symbolic: true) }
    let count = shape.reduce(1, *)
    var out = [UInt8](repeating: 0, count: count * size)
    var index = [Int](repeating: 0, count: rank)
    for element in 0..<count {
      var source = 0
      for axis in 0..<rank { source += index[axis] * strides[order[axis]] }
      let from = source * size
      let to = element * size
      for byte in 0..<size { out[to + byte] = bytes[from + byte] }
      var axis = rank - 1
      while axis >= 0 {
        index[axis] += 1
        if index[axis] < newShape[axis] { break }
        index[axis] = 0
        axis -= 1
      }
    }
    return ArrayBlock(dtype: dtype, shape: newShape, bytes: out)
  }

  /// Reorders `parts` equal blocks along `axis`: block `i` of the result is block `order[i]`.
  func reorderingBlocks(_ order: [Int], axis: Int) -> ArrayBlock {
    let parts = split(into: order.count, axis: axis)
    return ArrayBlock.concatenate(order.map { parts[$0] }, axis: axis)
  }

  /// Splits into `count` equal parts along `axis` (the caller checks divisibility).
  func split(into count: Int, axis: Int) -> [ArrayBlock] {
    let outer = shape[..<axis].reduce(1, *)
    let inner = shape[(axis + 1)...].reduce(1, *) * elementSize
    let length = shape[axis] / count
    var partShape = shape
    partShape[axis] = length
    if symbolic {
      return (0..<count).map { _ in ArrayBlock(dtype: dtype, shape: partShape, bytes: [], symbolic: true) }
    }
    return (0..<count).map { part in
      var out: [UInt8] = []
      out.reserveCapacity(outer * length * inner)
      for o in 0..<outer {
        let start = (o * shape[axis] + part * length) * inner
        out.append(contentsOf: bytes[start..<(start + length * inner)])
      }
      return ArrayBlock(dtype: dtype, shape: partShape, bytes: out)
    }
  }

  /// Concatenates blocks of equal shape (except along `axis`).
  static func concatenate(_ blocks: [ArrayBlock], axis: Int) -> ArrayBlock {
    let first = blocks[0]
    let outer = first.shape[..<axis].reduce(1, *)
    var shape = first.shape
    shape[axis] = blocks.map { $0.shape[axis] }.reduce(0, +)
    if blocks.contains(where: \.symbolic) {
      return ArrayBlock(dtype: first.dtype, shape: shape, bytes: [], symbolic: true)
    }
    var out: [UInt8] = []
    out.reserveCapacity(blocks.map(\.bytes.count).reduce(0, +))
    for o in 0..<outer {
      for block in blocks {
        let chunk = block.shape[axis...].reduce(1, *) * block.elementSize
        out.append(contentsOf: block.bytes[(o * chunk)..<((o + 1) * chunk)])
      }
    }
    return ArrayBlock(dtype: first.dtype, shape: shape, bytes: out)
  }

  /// The same bytes under another shape with the same element count.
  func reshaped(_ newShape: [Int]) -> ArrayBlock {
    ArrayBlock(dtype: dtype, shape: newShape, bytes: bytes, symbolic: symbolic)
  }

  /// Zeros of the same dtype and shape.
  func zeros() -> ArrayBlock {
    ArrayBlock(
      dtype: dtype, shape: shape, bytes: [UInt8](repeating: 0, count: bytes.count), symbolic: symbolic)
  }

  /// The elementwise float32 sum of blocks of one shape. An addend that is +0.0 leaves the
  /// other value's bits unchanged, so `sum([b, zeros])` is bit-exact `b` (even for −0.0).
  static func sum(_ blocks: [ArrayBlock], tensor: String) throws -> ArrayBlock {
    let first = blocks[0]
    guard blocks.allSatisfy({ $0.dtype == .f32 }) else {
      throw CheckpointError(
        .unsupportedDType,
        "merging biases adds in float32; found \(blocks.map(\.dtype.rawValue).joined(separator: ", "))",
        tensor: tensor)
    }
    if blocks.contains(where: \.symbolic) {
      return ArrayBlock(dtype: .f32, shape: first.shape, bytes: [], symbolic: true)
    }
    var values = first.floats
    for block in blocks.dropFirst() {
      let other = block.floats
      for index in values.indices where other[index].bitPattern != 0 {
        values[index] = values[index].bitPattern == 0 ? other[index] : values[index] + other[index]
      }
    }
    var out = [UInt8]()
    out.reserveCapacity(values.count * 4)
    for value in values {
      let bits = value.bitPattern.littleEndian
      withUnsafeBytes(of: bits) { out.append(contentsOf: $0) }
    }
    return ArrayBlock(dtype: .f32, shape: first.shape, bytes: out)
  }

  private var floats: [Float] {
    stride(from: 0, to: bytes.count, by: 4).map { offset in
      Float(
        bitPattern: UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
          | UInt32(bytes[offset + 3]) << 24)
    }
  }
}
