#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The raw, little-endian, row-major bytes of one tensor.
///
/// The bytes live in heap memory or in a memory-mapped region of a file
/// (zero-copy views); either way the owner is released when the last
/// `TensorBytes` referring to it goes away. The bytes are read-only.
public struct TensorBytes: @unchecked Sendable {
  /// Owns a region of memory and frees it when released.
  public final class Storage: @unchecked Sendable {
    /// The start of the region.
    public let base: UnsafeRawPointer?
    /// The size of the region in bytes.
    public let count: Int
    private let release: (@Sendable (UnsafeRawPointer?, Int) -> Void)?

    /// Wraps memory that `release` frees when the storage is released.
    public init(
      base: UnsafeRawPointer?, count: Int,
      release: (@Sendable (UnsafeRawPointer?, Int) -> Void)?
    ) {
      self.base = base
      self.count = count
      self.release = release
    }

    deinit { release?(base, count) }
  }

  /// Where bytes identical to these lie in a file, so writers can copy them
  /// inside the kernel (`sendfile`) instead of through user memory.
  public struct Origin: @unchecked Sendable {
    /// The file holding the same bytes.
    public let file: InputFile
    /// The offset of the first byte in `file`.
    public let offset: Int
  }

  /// CRC-32s of consecutive equal pieces of the bytes (the last may be shorter),
  /// already checked against them: a writer that cuts the bytes the same way
  /// need not compute them again.
  public struct ChunkChecksums: Sendable, Equatable {
    /// The size of every piece but the last.
    public let chunkSize: Int
    /// The CRC-32 of each piece, in order.
    public let crc32: [UInt32]

    /// Checksums of pieces of `chunkSize` bytes.
    public init(chunkSize: Int, crc32: [UInt32]) {
      self.chunkSize = chunkSize
      self.crc32 = crc32
    }
  }

  private let storage: Storage
  private let offset: Int
  /// The number of bytes.
  public let count: Int
  /// Where the same bytes lie in a file, when they were read unchanged from one.
  public let origin: Origin?
  /// The verified CRC-32s of the bytes' pieces, when a reader checked them.
  public let checksums: ChunkChecksums?

  /// A view of `count` bytes of `storage` starting at `offset`.
  ///
  /// The caller guarantees that the range lies inside the storage, that
  /// `origin`, if given, holds exactly these bytes, and that `checksums`, if
  /// given, are those of these bytes.
  public init(
    storage: Storage, offset: Int = 0, count: Int, origin: Origin? = nil, checksums: ChunkChecksums? = nil
  ) {
    self.storage = storage
    self.offset = offset
    self.count = count
    self.origin = origin
    self.checksums = checksums
  }

  /// The same bytes with the CRC-32s of their pieces, which the caller has checked.
  public func withChecksums(_ checksums: ChunkChecksums) -> TensorBytes {
    TensorBytes(storage: storage, offset: offset, count: count, origin: origin, checksums: checksums)
  }

  /// Copies `bytes` into new heap memory.
  public init<C: Collection>(_ bytes: C) where C.Element == UInt8 {
    let count = bytes.count
    self = TensorBytes.allocate(count: count) { buffer in
      _ = buffer.bindMemory(to: UInt8.self).initialize(from: bytes)
    }
  }

  /// An empty buffer.
  public static let empty = TensorBytes(storage: Storage(base: nil, count: 0, release: nil), count: 0)

  /// Allocates `count` bytes of heap memory and lets `initializer` fill them.
  ///
  /// The memory is 64-byte aligned, so any element type can be read from it.
  public static func allocate(
    count: Int, _ initializer: (UnsafeMutableRawBufferPointer) throws -> Void
  ) rethrows -> TensorBytes {
    guard count > 0 else { return .empty }
    let pointer = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 64)
    let storage = Storage(base: UnsafeRawPointer(pointer), count: count) { base, _ in
      base.map { UnsafeMutableRawPointer(mutating: $0).deallocate() }
    }
    try initializer(UnsafeMutableRawBufferPointer(start: pointer, count: count))
    return TensorBytes(storage: storage, count: count)
  }

  /// Calls `body` with the bytes.
  public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    try body(UnsafeRawBufferPointer(start: storage.base.map { $0 + offset }, count: count))
  }

  /// The same bytes, known to lie at `origin` in a file.
  func withOrigin(_ origin: Origin) -> TensorBytes {
    TensorBytes(storage: storage, offset: offset, count: count, origin: origin, checksums: checksums)
  }

  /// A view of a sub-range, sharing the same memory.
  public func slice(_ range: Range<Int>) -> TensorBytes {
    TensorBytes(
      storage: storage, offset: offset + range.lowerBound, count: range.count,
      origin: origin.map { Origin(file: $0.file, offset: $0.offset + range.lowerBound) })
  }

  /// The bytes copied into an array.
  public var array: [UInt8] { withUnsafeBytes { Array($0) } }
}

extension TensorBytes: Equatable {
  /// Byte-wise equality.
  public static func == (lhs: TensorBytes, rhs: TensorBytes) -> Bool {
    guard lhs.count == rhs.count else { return false }
    return lhs.withUnsafeBytes { a in
      rhs.withUnsafeBytes { b in
        a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0
      }
    }
  }
}
