/// Helpers for tensor shapes: lists of non-negative dimensions, row-major.
public enum Shape {
  /// The number of elements of `shape`, with overflow checking.
  ///
  /// A 0-d shape (`[]`) has one element; any zero dimension gives zero.
  /// - Throws: ``CheckpointError`` with kind `.invalidShape` on a negative
  ///   dimension or when the product overflows `Int`.
  public static func elementCount(_ shape: [Int]) throws -> Int {
    var count = 1
    for dim in shape {
      guard dim >= 0 else {
        throw CheckpointError(.invalidShape, "negative dimension \(dim) in shape \(describe(shape))")
      }
      let (product, overflow) = count.multipliedReportingOverflow(by: dim)
      guard !overflow else {
        throw CheckpointError(.invalidShape, "shape \(describe(shape)) overflows the element count")
      }
      count = product
    }
    return count
  }

  /// The byte size of a tensor of `dtype` and `shape`, with overflow checking.
  public static func byteCount(_ shape: [Int], dtype: DType) throws -> Int {
    try dtype.byteCount(elements: elementCount(shape))
  }

  /// `[2, 3]` style text for messages.
  public static func describe(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ", ") + "]"
  }
}
