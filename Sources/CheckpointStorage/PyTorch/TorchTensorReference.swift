import CheckpointCore

/// A storage record of a `torch.save` archive, as named by a persistent id:
/// `data/<key>` holds `count` elements of `dtype`.
struct TorchStorageReference: Equatable {
  /// The record name under `<top>/data/`.
  var key: String
  /// The element type (from the storage class).
  var dtype: DType
  /// The number of elements the pickle declares.
  var count: Int
  /// The device it was saved from (`cpu`, `cuda:0`); data is read the same way.
  var location: String
}

/// A tensor as `_rebuild_tensor_v2` describes it: a strided view of a storage.
struct TorchTensorReference: Equatable {
  /// The storage the view reads.
  var storage: TorchStorageReference
  /// The first element's index in the storage.
  var offset: Int
  /// The dimensions.
  var shape: [Int]
  /// The step between elements of each dimension, in elements.
  var strides: [Int]
  /// Whether the tensor required gradients (not kept).
  var requiresGrad: Bool

  /// Creates a view, checking that shape and strides agree and the view fits its storage.
  ///
  /// - Throws: `.invalidShape` for negative sizes, strides or offsets, a shape/stride
  ///   count mismatch, overflow, or a view that reaches past the storage's element count.
  init(storage: TorchStorageReference, offset: Int, shape: [Int], strides: [Int], requiresGrad: Bool)
    throws
  {
    guard shape.count == strides.count else {
      throw CheckpointError(
        .invalidShape, "size \(Shape.describe(shape)) and stride \(Shape.describe(strides)) differ in rank")
    }
    guard offset >= 0, strides.allSatisfy({ $0 >= 0 }) else {
      throw CheckpointError(
        .invalidShape, "negative storage offset \(offset) or stride \(Shape.describe(strides))")
    }
    let count = try Shape.elementCount(shape)
    if count > 0 {
      // The last element reached: offset + Σ (size − 1) · stride, overflow-checked.
      var last = offset
      for (size, stride) in zip(shape, strides) {
        let (step, overflow1) = (size - 1).multipliedReportingOverflow(by: stride)
        let (sum, overflow2) = last.addingReportingOverflow(step)
        guard !overflow1, !overflow2 else {
          throw CheckpointError(.invalidShape, "view of storage '\(storage.key)' overflows")
        }
        last = sum
      }
      guard last < storage.count else {
        throw CheckpointError(
          .invalidShape,
          "view offset \(offset) size \(Shape.describe(shape)) stride \(Shape.describe(strides)) reaches element \(last) of storage '\(storage.key)' with \(storage.count) elements"
        )
      }
    }
    self.storage = storage
    self.offset = offset
    self.shape = shape
    self.strides = strides
    self.requiresGrad = requiresGrad
  }

  /// Whether the view is one row-major run of elements (dimensions of size 1 ignored).
  var isContiguous: Bool {
    var expected = 1
    for (size, stride) in zip(shape, strides).reversed() where size != 1 {
      if stride != expected { return false }
      expected &*= size
    }
    return true
  }
}
