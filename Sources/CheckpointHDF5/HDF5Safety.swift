import CheckpointCore
import Foundation

/// How CheckpointKit opens HDF5 files it did not write.
///
/// libhdf5 is not hardened against malformed or hostile files: its own
/// SECURITY.md says so, and fuzzers keep finding crashes in its object-header,
/// B-tree and filter code. A crash there would take down `ckpt` (or the app
/// that embeds CheckpointKit). Two layers stand in front of it:
///
/// 1. **Pre-validation in Swift** (``preValidate(path:)``), before libhdf5
///    sees the file: the signature at offset 0 or at a user-block offset
///    (512, 1024, 2048, …), a known superblock version (0–3), sane sizes of
///    offsets and lengths, a defined end-of-file address, and that address
///    not beyond the file's size (truncation).
/// 2. **A probe in a child process** (``probeInChildProcess(path:)``): a
///    separate process opens the file with libhdf5, walks every group, reads
///    every attribute and dataset header, and reads the data of the datasets
///    (through the filter pipeline) up to ``probeDataBudget`` bytes. Only when
///    it exits cleanly does this process open the file. A crash, a hang
///    (timeout) or an error in the child becomes a `CheckpointError`.
///
/// The child is the `ckpt` executable itself, re-run with the hidden
/// `__hdf5-probe` subcommand; `ckpt` sets ``probeCommand`` at start-up.
/// Programs that embed the library set it to an executable of their own that
/// calls ``runProbe(path:)``; with no command set, only the pre-validation runs.
///
/// What stays unprotected: data of datasets beyond the probe's budget is
/// decoded in this process (libhdf5 and zlib still check sizes and the
/// fletcher32 checksum), and a file that changes between the probe and the
/// open.
public enum HDF5Safety {
  private static let lock = NSLock()
  nonisolated(unsafe) private static var command: [String]?

  /// The command that runs a probe; the file's path is appended. `nil`
  /// (the default) disables the child-process probe.
  public static var probeCommand: [String]? {
    get { lock.withLock { command } }
    set { lock.withLock { command = newValue } }
  }

  /// How many bytes of dataset data the probe reads through libhdf5's
  /// decoders; larger files get their headers probed only.
  public static let probeDataBudget = 256 << 20

  /// How long the probe may take before it counts as hung.
  public static var probeTimeout: TimeInterval = 120

  /// The HDF5 signature, `\x89HDF\r\n\x1a\n`.
  static let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]

  /// Whether `prefix` starts with the HDF5 signature.
  public static func hasSignature(_ prefix: [UInt8]) -> Bool {
    prefix.count >= 8 && Array(prefix.prefix(8)) == signature
  }

  /// Checks what can be checked without libhdf5 and returns the file's size.
  ///
  /// - Throws: `.badFormat` without a signature or with an unknown superblock,
  ///   `.truncated` when the file is shorter than its end-of-file address,
  ///   `.corrupt` for impossible superblock fields.
  @discardableResult
  public static func preValidate(path: String) throws -> Int {
    let file = try InputFile(path: path)
    var base = 0
    var found = false
    while base + 8 <= file.size {
      if try file.read(count: 8, at: base) == signature {
        found = true
        break
      }
      base = base == 0 ? 512 : base * 2
    }
    guard found else {
      throw CheckpointError(.badFormat, "no HDF5 signature at offset 0 or at a user-block offset", file: path)
    }
    let available = min(file.size - base, 96)
    let bytes = try file.read(count: available, at: base)
    var reader = ByteReader(bytes)
    func located(_ body: () throws -> Void) throws {
      try CheckpointError.locating(file: path, offset: base + reader.position) { try body() }
    }
    var version = 0
    var offsetSize = 0
    var lengthSize = 0
    try located {
      try reader.skip(8)
      version = Int(try reader.read(UInt8.self))
    }
    switch version {
    case 0, 1:
      try located {
        try reader.skip(4)  // free-space, root-group, reserved, shared-header versions
        offsetSize = Int(try reader.read(UInt8.self))
        lengthSize = Int(try reader.read(UInt8.self))
        try reader.skip(1 + 2 + 2 + 4 + (version == 1 ? 4 : 0))
      }
    case 2, 3:
      try located {
        offsetSize = Int(try reader.read(UInt8.self))
        lengthSize = Int(try reader.read(UInt8.self))
        try reader.skip(1)  // file consistency flags
      }
    default:
      throw CheckpointError(
        .badFormat, "unknown HDF5 superblock version \(version)", file: path, offset: base + 8)
    }
    guard [2, 4, 8].contains(offsetSize), [2, 4, 8].contains(lengthSize) else {
      throw CheckpointError(
        .corrupt, "superblock declares \(offsetSize)-byte offsets and \(lengthSize)-byte lengths", file: path,
        offset: base + 9)
    }
    func address() throws -> UInt64 {
      var value: UInt64 = 0
      try located {
        for index in 0..<offsetSize { value |= UInt64(try reader.read(UInt8.self)) << (8 * UInt64(index)) }
      }
      return value
    }
    let undefined: UInt64 = offsetSize == 8 ? .max : (1 << (8 * UInt64(offsetSize))) - 1
    let baseAddress = try address()
    _ = try address()  // v0/1: free-space info address; v2/3: superblock extension address
    let eofOffset = base + reader.position
    let endOfFile = try address()
    guard endOfFile != undefined, baseAddress != undefined else {
      throw CheckpointError(.corrupt, "superblock has no end-of-file address", file: path, offset: eofOffset)
    }
    // libhdf5 records the end of file as an absolute size (user block included).
    guard endOfFile <= UInt64(file.size) else {
      throw CheckpointError(
        .truncated, "file is \(file.size) bytes but the superblock says its data ends at \(endOfFile)",
        file: path,
        offset: eofOffset)
    }
    return file.size
  }

  /// A file as it was when probed: a changed file (size, time, inode) is probed again.
  private struct Identity: Hashable {
    var path: String
    var attributes: [String]
  }

  nonisolated(unsafe) private static var probed = Set<Identity>()

  private static func identity(of path: String) -> Identity? {
    guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
    let keys: [FileAttributeKey] = [.systemNumber, .systemFileNumber, .size, .modificationDate]
    return Identity(path: path, attributes: keys.map { "\(attributes[$0] ?? "")" })
  }

  /// Runs the probe in a child process (when ``probeCommand`` is set). A file
  /// that passed once in this process, unchanged since, is not probed again
  /// (`inspect --tree` opens it twice).
  ///
  /// - Throws: `.corrupt` when the child crashes, hangs or reports an error.
  public static func probeInChildProcess(path: String) throws {
    guard let command = probeCommand, let executable = command.first else { return }
    let before = identity(of: path)
    if let before, lock.withLock({ probed.contains(before) }) { return }
    try runChild(executable: executable, arguments: Array(command.dropFirst()), path: path)
    if let before, identity(of: path) == before { lock.withLock { _ = probed.insert(before) } }
  }

  private static func runChild(executable: String, arguments: [String], path: String) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments + [path]
    let errorPipe = Pipe()
    process.standardError = errorPipe
    process.standardOutput = FileHandle.nullDevice
    process.standardInput = FileHandle.nullDevice
    // A crash is expected on hostile files: skip the Swift runtime's backtracer.
    var environment = ProcessInfo.processInfo.environment
    environment["SWIFT_BACKTRACE"] = "enable=no"
    process.environment = environment
    let finished = DispatchSemaphore(value: 0)
    process.terminationHandler = { _ in finished.signal() }
    do {
      try process.run()
    } catch {
      throw CheckpointError(.io, "cannot start the HDF5 probe '\(executable)': \(error)", file: path)
    }
    // Read stderr while waiting so a chatty child cannot block on a full pipe.
    let errorData = errorPipe.fileHandleForReading.readDataToEndOfFile()
    if finished.wait(timeout: .now() + probeTimeout) == .timedOut {
      process.terminate()
      throw CheckpointError(
        .corrupt, "libhdf5 did not finish reading the file's headers (probe timed out)", file: path)
    }
    let text = String(decoding: errorData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    switch (process.terminationReason, process.terminationStatus) {
    case (.exit, 0):
      return
    case (.uncaughtSignal, let signal):
      throw CheckpointError(
        .corrupt,
        "malformed HDF5 file: libhdf5 crashed with signal \(signal) while probing it in a child process",
        file: path)
    default:
      // The child reports `kind<TAB>message` on its last line.
      let line = text.split(separator: "\n").last.map(String.init) ?? ""
      let parts = line.split(separator: "\t", maxSplits: 1).map(String.init)
      if parts.count == 2, let kind = CheckpointError.Kind(rawValue: parts[0]) {
        throw CheckpointError(kind, parts[1], file: path)
      }
      throw CheckpointError(
        .corrupt, "HDF5 probe failed (exit \(process.terminationStatus))\(text.isEmpty ? "" : ": " + text)",
        file: path)
    }
  }

  /// The probe itself, run in the child: opens `path`, walks the whole tree and
  /// reads dataset data up to the budget. Returns the exit status (0 clean,
  /// 1 error, reported on stderr as `kind<TAB>message`).
  public static func runProbe(path: String) -> Int32 {
    do {
      let file = try HDF5File(path: path, probe: false)
      let root = try file.tree()
      var budget = probeDataBudget
      for node in root.datasets {
        guard let info = node.dataset, let dtype = info.dtype, let shape = info.shape,
          let bytes = try? Shape.byteCount(shape, dtype: dtype), bytes <= budget
        else { continue }
        budget -= bytes
        _ = try CheckpointError.locating(tensor: node.path) {
          try file.read(path: node.path, dtype: dtype, shape: shape, storedBytes: info.storedBytes)
        }
      }
      return 0
    } catch let error as CheckpointError {
      var message = error
      message.file = nil
      FileHandle.standardError.write(Data("\(error.kind.rawValue)\t\(message.description)\n".utf8))
      return 1
    } catch {
      FileHandle.standardError.write(Data("corrupt\t\(error)\n".utf8))
      return 1
    }
  }
}
