import Dispatch

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A file being written: buffered sequential writes plus positional
/// patching, tracking the current position.
///
/// Obtain one through ``AtomicFile/write(to:_:)``, which makes the final file
/// appear only when everything was written and synced.
public final class OutputFile {
  /// The path of the file being written (a temporary path while in progress).
  public let path: String
  /// The path the finished file will have (used in error messages).
  public let displayPath: String
  private let descriptor: Int32
  private var buffer: UnsafeMutableRawBufferPointer
  private var buffered = 0
  /// Bytes written so far, buffered or not: the offset of the next byte.
  public private(set) var position: Int = 0
  /// Writeback to the disk has been started for the bytes before this offset.
  private var writebackStart = 0
  /// Disk space was allocated up to this size (the file is trimmed to ``position`` before it is synced).
  private var reservedSize = 0
  /// Whether ``reserve(_:)`` called `fallocate`: a failed call may still have grown the
  /// file, so it is trimmed in any case.
  private var reserveAttempted = false
  /// Where writeback is started (its CPU work, block allocation and I/O
  /// submission, then runs beside the writing thread); `nil` without
  /// `sync_file_range`.
  private let writeback: DispatchQueue? = {
    #if os(Linux)
      return OutputFile.syncFileRange == nil ? nil : DispatchQueue(label: "ckpt.output.writeback")
    #else
      return nil
    #endif
  }()

  init(path: String, displayPath: String, descriptor: Int32, bufferSize: Int = 1 << 20) {
    self.path = path
    self.displayPath = displayPath
    self.descriptor = descriptor
    self.buffer = .allocate(byteCount: bufferSize, alignment: 64)
  }

  deinit {
    writeback?.sync {}
    buffer.deallocate()
    close(descriptor)
  }

  /// Allocates disk space for the file to grow to `byteCount` bytes, when the
  /// file system can do so without writing (Linux `fallocate`); otherwise does nothing.
  ///
  /// Writing into allocated space skips the file system's block reservation for
  /// each page (ext4's delayed allocation), which costs about as much CPU as
  /// copying the bytes. An estimate is fine: the file is trimmed to what was
  /// written before it is synced. A lower bound is better when one is known:
  /// trimming frees blocks, which waits for the device on a file system mounted
  /// with `discard`.
  public func reserve(_ byteCount: Int) {
    #if os(Linux)
      guard byteCount > max(position, reservedSize), let allocate = OutputFile.fallocate else { return }
      let start = max(position, reservedSize)
      reserveAttempted = true
      if allocate(descriptor, 0, Int64(start), Int64(byteCount - start)) == 0 { reservedSize = byteCount }
    #endif
  }

  /// Appends `bytes`.
  public func write(_ bytes: UnsafeRawBufferPointer) throws {
    guard bytes.count > 0, let base = bytes.baseAddress else { return }
    if buffered + bytes.count <= buffer.count {
      (buffer.baseAddress! + buffered).copyMemory(from: base, byteCount: bytes.count)
      buffered += bytes.count
    } else {
      try flush()
      if bytes.count >= buffer.count {
        try writeFully(bytes, at: position)
        startWriteback(upTo: position + bytes.count)
      } else {
        buffer.baseAddress!.copyMemory(from: base, byteCount: bytes.count)
        buffered = bytes.count
      }
    }
    position += bytes.count
  }

  /// Appends `bytes`.
  public func write(_ bytes: [UInt8]) throws {
    try bytes.withUnsafeBytes { try write($0) }
  }

  /// Bytes from a file are copied inside the kernel from this size on.
  static let kernelCopyThreshold = 1 << 20

  /// Appends a tensor's bytes.
  ///
  /// Large tensors read unchanged from a file (see ``TensorBytes/origin``)
  /// are copied from that file inside the kernel with `sendfile`, as `cp`
  /// does, instead of through user memory.
  public func write(_ bytes: TensorBytes) throws {
    if let origin = bytes.origin, bytes.count >= OutputFile.kernelCopyThreshold,
      try copyFromFile(origin.file, offset: origin.offset, count: bytes.count)
    {
      return
    }
    try bytes.withUnsafeBytes { try write($0) }
  }

  /// Copies `count` bytes at `offset` of `source` to the end of this file in
  /// the kernel; `false` when the system cannot (nothing was written then).
  private func copyFromFile(_ source: InputFile, offset: Int, count: Int) throws -> Bool {
    #if !os(Linux)
      return false
    #else
      try flush()
      guard lseek(descriptor, off_t(position), SEEK_SET) == off_t(position) else { return false }
      var sourceOffset = off_t(offset)
      var done = 0
      while done < count {
        let n = sendfile(
          descriptor, source.descriptor, &sourceOffset, min(count - done, OutputFile.writebackChunk))
        if n > 0 {
          done += n
          startWriteback(upTo: position + done)
          continue
        }
        let code = errno
        if n < 0 && code == EINTR { continue }
        if done == 0 && n < 0 && (code == EINVAL || code == ENOSYS || code == EOPNOTSUPP) { return false }
        if n == 0 {
          throw CheckpointError(
            .truncated, "source ended while copying \(count) bytes", file: source.path,
            offset: Int(sourceOffset))
        }
        throw CheckpointError(.io, "sendfile failed: \(String(cString: strerror(code)))", file: displayPath)
      }
      position += count
      return true
    #endif
  }

  /// Appends `count` zero bytes (padding).
  public func writeZeros(_ count: Int) throws {
    guard count > 0 else { return }
    try write([UInt8](repeating: 0, count: count))
  }

  /// Appends zeros until ``position`` is a multiple of `alignment`.
  public func pad(toMultipleOf alignment: Int) throws {
    let rest = position % alignment
    if rest != 0 { try writeZeros(alignment - rest) }
  }

  /// Overwrites bytes already written at `offset` (flushes first).
  public func patch(_ bytes: [UInt8], at offset: Int) throws {
    try flush()
    try bytes.withUnsafeBytes { try writeFully($0, at: offset) }
  }

  /// Writes buffered bytes to the file.
  public func flush() throws {
    guard buffered > 0 else { return }
    let pending = UnsafeRawBufferPointer(start: buffer.baseAddress, count: buffered)
    try writeFully(pending, at: position - buffered)
    buffered = 0
    startWriteback(upTo: position)
  }

  /// Starts writing everything written so far to the disk, without waiting.
  ///
  /// For a writer about to wait for something else (a digest of its source, say)
  /// before its last few bytes: the final `fsync` then has almost nothing left to do.
  public func startWritingBack() throws {
    try flush()
    startWriteback(upTo: position, whateverTheSize: true)
  }

  /// Bytes are handed to the disk in pieces of this size while the file is written.
  static let writebackChunk = 16 << 20

  /// Starts writing the bytes between the last call and `end` to the disk, without waiting,
  /// once there are at least ``writebackChunk`` of them.
  ///
  /// The final `fsync` then finds most of the file already written: the disk works while
  /// the rest is being produced, instead of after it (Linux `sync_file_range`, called on
  /// another thread; elsewhere a no-op). Errors are ignored here: `fsync` reports them.
  private func startWriteback(upTo end: Int, whateverTheSize: Bool = false) {
    guard end > writebackStart, whateverTheSize || end - writebackStart >= OutputFile.writebackChunk
    else { return }
    #if os(Linux)
      if let writeback, let start = OutputFile.syncFileRange {
        let (descriptor, offset, length) = (
          self.descriptor, Int64(writebackStart), Int64(end - writebackStart)
        )
        writeback.async { _ = start(descriptor, offset, length, 2) }  // SYNC_FILE_RANGE_WRITE
      }
    #endif
    writebackStart = end
  }

  #if os(Linux)
    /// `fallocate(2)` (not `posix_fallocate`, which falls back to writing zeros).
    private static let fallocate: (@convention(c) (Int32, Int32, Int64, Int64) -> Int32)? = {
      guard let symbol = dlsym(nil, "fallocate") else { return nil }
      return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32, Int64, Int64) -> Int32).self)
    }()

    /// `sync_file_range(2)`, which Glibc's Swift module does not import (it needs `_GNU_SOURCE`).
    private static let syncFileRange: (@convention(c) (Int32, Int64, Int64, UInt32) -> Int32)? = {
      guard let symbol = dlsym(nil, "sync_file_range") else { return nil }
      return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int64, Int64, UInt32) -> Int32).self)
    }()
  #endif

  func sync() throws {
    try flush()
    // Trim space reserved beyond what was written (or maybe reserved, when `fallocate` failed
    // part-way). A file that grew past its reservation has nothing to trim, and is left alone:
    // on a file system mounted with `discard`, freeing blocks waits for the device.
    if reserveAttempted && (reservedSize == 0 || position < reservedSize) {
      try valueOrErrno("ftruncate", file: displayPath) { ftruncate(descriptor, off_t(position)) }
    }
    writeback?.sync {}
    try valueOrErrno("fsync", file: displayPath) { fsync(descriptor) }
  }

  private func writeFully(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
    var done = 0
    while done < bytes.count {
      let n = try valueOrErrno("write", file: displayPath) {
        pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
      }
      done += n
    }
  }
}

/// Writes files atomically: into a temporary file in the destination's
/// folder, then `fsync`, `rename` over the destination and `fsync` of the
/// folder. A failure (or a crash) never leaves a partial destination, and an
/// existing destination stays untouched until the new one is complete.
public enum AtomicFile {
  /// The prefix of temporary files, so stale ones can be recognised.
  public static let temporaryPrefix = ".ckpt-tmp-"

  /// Creates `path` atomically from what `body` writes.
  ///
  /// - Returns: what `body` returns.
  /// - Throws: what `body` throws, or `.io` when the file cannot be
  ///   created, synced or renamed; the temporary file is removed.
  public static func write<R>(to path: String, _ body: (OutputFile) throws -> R) throws -> R {
    try write(to: path, expectedSize: 0, body)
  }

  /// Creates `path` atomically from what `body` writes, first allocating disk
  /// space for about `expectedSize` bytes (see ``OutputFile/reserve(_:)``).
  ///
  /// - Returns: what `body` returns.
  public static func write<R>(to path: String, expectedSize: Int, _ body: (OutputFile) throws -> R) throws
    -> R
  {
    let (folder, name) = split(path)
    removeStaleTemporaries(in: folder, for: name)
    dropCachedPages(ofReplaced: path)
    var random = SystemRandomNumberGenerator()
    let temporary =
      folder + "/" + temporaryPrefix + name + "-" + String(getpid()) + "-"
      + String(random.next() & 0xFFFF_FFFF, radix: 16)
    let fd = try valueOrErrno("open", file: path) {
      open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    }
    var committed = false
    defer { if !committed { unlink(temporary) } }
    let result: R
    do {
      let file = OutputFile(path: temporary, displayPath: path, descriptor: fd)
      file.reserve(expectedSize)
      result = try body(file)
      try file.sync()
    }
    try valueOrErrno("rename", file: path) { rename(temporary, path) }
    committed = true
    syncFolder(folder)
    return result
  }

  /// Drops the page cache of the file this write will replace, on a background thread.
  ///
  /// Replacing a file frees its cached pages when the new file is renamed over
  /// it, at the very end of the write: about 6 ms per 100 MB, on top of the
  /// time the file system takes to free its blocks. Dropped early, beside the
  /// write, only the blocks are left for the rename. The old file's content is
  /// untouched (only clean cached copies are dropped), so it stays intact if
  /// the write fails. Skipped for files with other links, whose readers may
  /// still want those pages, and for small files.
  static func dropCachedPages(ofReplaced path: String) {
    #if os(Linux)
      let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
      guard fd >= 0 else { return }
      var info = stat()
      guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_nlink == 1,
        info.st_size >= (8 << 20)
      else {
        close(fd)
        return
      }
      DispatchQueue.global(qos: .utility).async {
        _ = posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_DONTNEED))
        close(fd)
      }
    #endif
  }

  /// Removes temporary files left in `folder` by interrupted writes of `name`
  /// (killed processes): those whose writer process no longer exists.
  public static func removeStaleTemporaries(in folder: String, for name: String) {
    guard let dir = opendir(folder) else { return }
    defer { closedir(dir) }
    let prefix = temporaryPrefix + name + "-"
    var stale: [String] = []
    while let entry = readdir(dir) {
      let entryName = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
      }
      guard entryName.hasPrefix(prefix) else { continue }
      // `<prefix><pid>-<random>`: stale when no process has that pid.
      let rest = entryName.dropFirst(prefix.count)
      guard let dash = rest.firstIndex(of: "-"), let pid = Int32(rest[..<dash]) else { continue }
      if kill(pid, 0) != 0 && errno == ESRCH { stale.append(entryName) }
    }
    for entryName in stale { unlink(folder + "/" + entryName) }
  }

  static func split(_ path: String) -> (folder: String, name: String) {
    guard let slash = path.lastIndex(of: "/") else { return (".", path) }
    let folder = String(path[..<slash])
    return (folder.isEmpty ? "/" : folder, String(path[path.index(after: slash)...]))
  }

  private static func syncFolder(_ folder: String) {
    let fd = open(folder, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return }
    fsync(fd)
    close(fd)
  }
}
