#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A file opened for reading with positional reads (`pread`), safe to share
/// between threads. The descriptor is closed when the last reference goes.
public final class InputFile: @unchecked Sendable {
  /// The path the file was opened from (used in error messages).
  public let path: String
  /// The file's size in bytes at open time.
  public let size: Int
  let descriptor: Int32
  let identity: SharedFileMappings.Identity

  /// Opens `path` for reading.
  public init(path: String) throws {
    self.path = path
    let fd = try valueOrErrno("open", file: path) { open(path, O_RDONLY | O_CLOEXEC) }
    var info = stat()
    do {
      try valueOrErrno("fstat", file: path) { fstat(fd, &info) }
    } catch {
      close(fd)
      throw error
    }
    if (info.st_mode & S_IFMT) == S_IFDIR {
      close(fd)
      throw CheckpointError(.io, "is a directory", file: path)
    }
    self.descriptor = fd
    self.size = Int(info.st_size)
    self.identity = SharedFileMappings.Identity(info)
  }

  deinit { close(descriptor) }

  /// Reads exactly `buffer.count` bytes at `offset` into `buffer`.
  ///
  /// - Throws: `.truncated` when the file ends first, `.io` on a read error.
  public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws {
    guard let base = buffer.baseAddress, buffer.count > 0 else { return }
    guard offset >= 0, offset <= size, buffer.count <= size - offset else {
      throw CheckpointError(
        .truncated, "needs \(buffer.count) bytes but the file has \(max(0, size - offset)) left",
        file: path, offset: offset)
    }
    var done = 0
    while done < buffer.count {
      let chunk = min(buffer.count - done, 1 << 30)
      let n = try valueOrErrno("pread", file: path) {
        pread(descriptor, base + done, chunk, off_t(offset + done))
      }
      if n == 0 {
        throw CheckpointError(.truncated, "unexpected end of file", file: path, offset: offset + done)
      }
      done += n
    }
  }

  /// Reads `count` bytes at `offset` into a new array.
  public func read(count: Int, at offset: Int) throws -> [UInt8] {
    guard count >= 0 else {
      throw CheckpointError(.corrupt, "negative read size \(count)", file: path, offset: offset)
    }
    guard offset >= 0, offset <= size, count <= size - offset else {
      throw CheckpointError(
        .truncated, "needs \(count) bytes but the file has \(max(0, size - offset)) left",
        file: path, offset: offset)
    }
    return try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
      try read(into: UnsafeMutableRawBufferPointer(buffer), at: offset)
      initialized = count
    }
  }

  /// Reads `count` bytes at `offset` into new 64-byte-aligned tensor memory.
  public func readBytes(count: Int, at offset: Int) throws -> TensorBytes {
    guard count >= 0, offset >= 0, offset <= size, count <= size - offset else {
      throw CheckpointError(
        .truncated, "needs \(count) bytes but the file has \(max(0, size - offset)) left",
        file: path, offset: offset)
    }
    return try TensorBytes.allocate(count: count) { try read(into: $0, at: offset) }
      .withOrigin(.init(file: self, offset: offset))
  }

  /// Maps `count` bytes at `offset` read-only into memory: a zero-copy view.
  ///
  /// Falls back to a heap copy when the region is empty or mapping fails.
  public func mapBytes(count: Int, at offset: Int) throws -> TensorBytes {
    guard count >= 0, offset >= 0, offset <= size, count <= size - offset else {
      throw CheckpointError(
        .truncated, "needs \(count) bytes but the file has \(max(0, size - offset)) left",
        file: path, offset: offset)
    }
    guard count > 0 else { return .empty }
    if let whole = SharedFileMappings.mapping(of: identity) {
      return TensorBytes(
        storage: whole, offset: offset, count: count, origin: .init(file: self, offset: offset))
    }
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    let start = offset - offset % page
    let length = count + (offset - start)
    guard let region = mmap(nil, length, PROT_READ, MAP_PRIVATE, descriptor, off_t(start)),
      region != MAP_FAILED
    else {
      return try readBytes(count: count, at: offset)
    }
    let storage = TensorBytes.Storage(base: UnsafeRawPointer(region), count: length) { base, length in
      if let base { munmap(UnsafeMutableRawPointer(mutating: base), length) }
    }
    return TensorBytes(
      storage: storage, offset: offset - start, count: count, origin: .init(file: self, offset: offset))
  }

  /// Maps the whole file read-only and shares the mapping: while the returned
  /// bytes (or a view into them) are alive, ``mapBytes(count:at:)`` on any
  /// `InputFile` of the same file returns a view into this mapping instead of
  /// mapping the range again (see `SharedFileMappings`).
  ///
  /// Falls back to ``mapBytes(count:at:)`` (unshared) when the file is empty or mapping fails.
  public func mapShared() throws -> TensorBytes {
    if let whole = SharedFileMappings.mapping(of: identity) {
      return TensorBytes(storage: whole, count: size, origin: .init(file: self, offset: 0))
    }
    guard size > 0, let region = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), region != MAP_FAILED
    else {
      return try mapBytes(count: size, at: 0)
    }
    let storage = TensorBytes.Storage(base: UnsafeRawPointer(region), count: size) { base, length in
      if let base { munmap(UnsafeMutableRawPointer(mutating: base), length) }
    }
    SharedFileMappings.register(storage, for: identity)
    return TensorBytes(storage: storage, count: size, origin: .init(file: self, offset: 0))
  }
}
