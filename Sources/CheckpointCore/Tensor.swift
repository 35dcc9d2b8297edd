/// A tensor's description: name, dtype and shape, without its data.
public struct TensorInfo: Sendable, Hashable {
  /// The tensor's name in its checkpoint (a dotted path, an HDF5 path, ...).
  public var name: String
  /// The element type.
  public var dtype: DType
  /// The dimensions, outermost first (row-major). `[]` is a 0-d scalar.
  public var shape: [Int]

  /// Creates a description. Use `validated()` to check shape and size.
  public init(name: String, dtype: DType, shape: [Int]) {
    self.name = name
    self.dtype = dtype
    self.shape = shape
  }

  /// The number of elements (1 for 0-d), or `nil` if the shape is invalid.
  public var elementCount: Int? { try? Shape.elementCount(shape) }

  /// The number of data bytes, checked for overflow.
  public func byteCount() throws -> Int {
    try CheckpointError.locating(tensor: name) { try Shape.byteCount(shape, dtype: dtype) }
  }
}

/// A tensor in a checkpoint: its description and a way to load its bytes.
///
/// Loading is lazy: the bytes are read only when ``load()`` is called, so
/// listing a checkpoint never touches tensor data, and converters can stream
/// one tensor at a time.
public struct Tensor: Sendable {
  /// Loads the tensor's bytes.
  public typealias Loader = @Sendable () throws -> TensorBytes

  /// The tensor's description.
  public var info: TensorInfo
  /// The number of data bytes (`numel × element size`).
  public let byteCount: Int
  /// The number of bytes the tensor occupies in its file when that differs
  /// from ``byteCount`` (compressed formats); `nil` otherwise.
  public var storedByteCount: Int?
  private let loader: Loader

  /// Creates a lazily loaded tensor. `byteCount` must match dtype and shape.
  public init(info: TensorInfo, byteCount: Int, loader: @escaping Loader) {
    self.info = info
    self.byteCount = byteCount
    self.loader = loader
  }

  /// Creates a tensor from bytes already in memory.
  ///
  /// - Throws: ``CheckpointError`` when the byte count does not match dtype and shape.
  public init(name: String, dtype: DType, shape: [Int], bytes: TensorBytes) throws {
    let info = TensorInfo(name: name, dtype: dtype, shape: shape)
    let expected = try info.byteCount()
    guard expected == bytes.count else {
      throw CheckpointError(
        .invalidShape,
        "\(bytes.count) bytes given, shape \(Shape.describe(shape)) \(dtype) needs \(expected)",
        tensor: name)
    }
    self.init(info: info, byteCount: expected) { bytes }
  }

  /// The tensor's name.
  public var name: String {
    get { info.name }
    set { info.name = newValue }
  }
  /// The element type.
  public var dtype: DType { info.dtype }
  /// The dimensions.
  public var shape: [Int] { info.shape }

  /// Reads the tensor's bytes, checking that the reader returned the declared size.
  public func load() throws -> TensorBytes {
    let bytes = try CheckpointError.locating(tensor: info.name) { try loader() }
    guard bytes.count == byteCount else {
      throw CheckpointError(
        .corrupt, "reader returned \(bytes.count) bytes, expected \(byteCount)", tensor: info.name)
    }
    return bytes
  }

  /// A copy whose loads report their bytes to `progress`.
  public func reportingProgress(to progress: any ProgressReporter) -> Tensor {
    let inner = loader
    let count = byteCount
    var copy = Tensor(info: info, byteCount: byteCount) {
      let bytes = try inner()
      progress.advance(bytes: count)
      return bytes
    }
    copy.storedByteCount = storedByteCount
    return copy
  }

  /// A copy under another name, sharing the loader.
  public func renamed(_ name: String) -> Tensor {
    var copy = self
    copy.info.name = name
    return copy
  }
}
