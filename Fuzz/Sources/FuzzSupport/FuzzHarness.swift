import CheckpointCore
import CheckpointKit
import CheckpointStorage

#if canImport(Glibc)
  import Glibc
#endif

/// The signature of `LLVMFuzzerTestOneInput`.
public typealias FuzzTestOneInput = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

@_silgen_name("LLVMFuzzerRunDriver")
private func llvmFuzzerRunDriver(
  _ argc: UnsafeMutablePointer<CInt>,
  _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
  _ body: FuzzTestOneInput
) -> CInt

/// Shared plumbing of the fuzz targets: the libFuzzer driver, the per-process
/// input file, and the invariant every parser must keep — hostile bytes give a
/// ``CheckpointError`` or a checkpoint whose every tensor loads, never anything else.
public enum FuzzHarness {
  /// Runs libFuzzer with the process's arguments.
  ///
  /// SwiftPM links an executable's entry point as `<module>_main`; each target
  /// defines that symbol and calls this, so libFuzzer's own `main` is not needed.
  public static func driver(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ body: FuzzTestOneInput
  ) -> CInt {
    var count = argc
    var arguments = argv
    return llvmFuzzerRunDriver(&count, &arguments, body)
  }

  /// The input as an array.
  public static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
  }

  /// The per-process input file (tmpfs), named with `suffix` so extension-based detection sees it.
  public static func inputPath(suffix: String) -> String {
    "/dev/shm/ckpt-fuzz-\(getpid()).\(suffix)"
  }

  /// Writes `bytes` to the per-process input file and returns its path.
  public static func writeInput(_ bytes: [UInt8], suffix: String) -> String {
    let path = inputPath(suffix: suffix)
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard fd >= 0 else { fail("cannot create \(path): errno \(errno)") }
    var done = 0
    while done < bytes.count {
      let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
      guard n > 0 else { fail("cannot write \(path): errno \(errno)") }
      done += n
    }
    close(fd)
    return path
  }

  /// Runs `body`; a ``CheckpointError`` is the expected answer to bad bytes,
  /// any other error is a bug and aborts (libFuzzer records the input).
  public static func expectingCheckpointErrors(_ body: () throws -> Void) {
    do {
      try body()
    } catch is CheckpointError {
      // The parser refused the input: what it should do.
    } catch {
      fail("not a CheckpointError: \(type(of: error)): \(error)")
    }
  }

  /// Loads every tensor of `checkpoint` and touches every byte, checking
  /// the declared sizes agree; a load may fail with a ``CheckpointError``.
  public static func loadAll(_ checkpoint: Checkpoint) {
    for tensor in checkpoint.tensors {
      guard let declared = try? tensor.info.byteCount(), declared == tensor.byteCount else {
        fail("tensor \(tensor.name): byteCount \(tensor.byteCount) disagrees with its dtype and shape")
      }
      expectingCheckpointErrors {
        let bytes = try tensor.load()
        var sum: UInt8 = 0
        bytes.withUnsafeBytes { raw in for byte in raw { sum &+= byte } }
        blackHole(sum)
      }
    }
    _ = checkpoint.parameterCount
    _ = checkpoint.byteCount
  }

  /// Runs every format's magic detection on `prefix`, reads the file at `path` as `format`, and loads every tensor.
  public static func readAndLoad(path: String, prefix: [UInt8], format: any CheckpointFormat.Type) {
    for candidate in FormatRegistry.formats { _ = candidate.matches(prefix: prefix) }
    expectingCheckpointErrors { loadAll(try format.read(path: path)) }
  }

  /// The registered format named `identifier`; exits with status 77 (skipped)
  /// when this build does not have it yet.
  public static func format(named identifier: String) -> any CheckpointFormat.Type {
    guard let format = try? FormatRegistry.format(named: identifier) else {
      print(
        "fuzz: format '\(identifier)' is not in this build (known: \(FormatRegistry.identifiers)); skipped")
      exit(77)
    }
    return format
  }

  /// Fuzzes `format` through a file: the whole reader, then every tensor.
  public static func fuzzFormat(
    _ data: UnsafePointer<UInt8>?, _ size: Int, format: any CheckpointFormat.Type, suffix: String
  ) -> CInt {
    let input = bytes(data, size)
    let path = writeInput(input, suffix: suffix)
    readAndLoad(path: path, prefix: Array(input.prefix(64)), format: format)
    return 0
  }

  /// Aborts with `message` (libFuzzer saves the crashing input).
  public static func fail(_ message: String) -> Never {
    fputs("fuzz invariant broken: \(message)\n", stderr)
    abort()
  }

  @inline(never)
  static func blackHole(_ value: UInt8) {
    if value == 0x5A && getpid() == 0 { print(value) }
  }
}
