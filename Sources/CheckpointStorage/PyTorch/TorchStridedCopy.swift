import CheckpointCore

/// Materialises a strided view of a storage as C-contiguous bytes.
enum TorchStridedCopy {
  /// The bytes of `view`, read from its storage record `record`.
  ///
  /// A contiguous view is a zero-copy slice of the record; any other view
  /// (transposes, steps, broadcast strides of 0) is gathered element by element,
  /// with whole rows copied at once when the innermost stride is 1.
  ///
  /// - Throws: `.corrupt` when the record does not hold the storage's declared
  ///   element count (the view itself was bounds-checked when it was read).
  static func materialise(_ view: TorchTensorReference, from record: TensorBytes) throws -> TensorBytes {
    guard let elementSize = view.storage.dtype.elementSize else {
      throw CheckpointError(.unsupportedDType, "\(view.storage.dtype) has no element size")
    }
    let storageBytes = try view.storage.dtype.byteCount(elements: view.storage.count)
    guard record.count == storageBytes else {
      throw CheckpointError(
        .corrupt, "storage '\(view.storage.key)' record has \(record.count) bytes, expected \(storageBytes)")
    }
    let count = try Shape.elementCount(view.shape)
    guard count > 0 else { return .empty }
    if view.isContiguous {
      return record.slice(view.offset * elementSize..<(view.offset + count) * elementSize)
    }
    let shape = view.shape
    let strides = view.strides
    let rank = shape.count
    let innerSize = shape[rank - 1]
    let innerStride = strides[rank - 1]
    let rowBytes = innerSize * elementSize
    return record.withUnsafeBytes { source in
      TensorBytes.allocate(count: count * elementSize) { output in
        guard let from = source.baseAddress, let to = output.baseAddress else { return }
        var index = [Int](repeating: 0, count: rank)
        var start = view.offset  // element index of the current row's first element
        var written = 0
        for _ in 0..<(count / innerSize) {
          if innerStride == 1 {
            (to + written).copyMemory(from: from + start * elementSize, byteCount: rowBytes)
          } else {
            var element = start
            for column in 0..<innerSize {
              (to + written + column * elementSize).copyMemory(
                from: from + element * elementSize, byteCount: elementSize)
              element += innerStride
            }
          }
          written += rowBytes
          // Advance the outer index like an odometer.
          var dim = rank - 2
          while dim >= 0 {
            index[dim] += 1
            start += strides[dim]
            if index[dim] < shape[dim] { break }
            start -= strides[dim] * shape[dim]
            index[dim] = 0
            dim -= 1
          }
        }
      }
    }
  }
}
