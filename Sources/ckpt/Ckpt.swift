import ArgumentParser
import CheckpointCore
import CheckpointHDF5
import CheckpointStorage
import Foundation

/// The `ckpt` command: inspect, convert and check neural-network checkpoints.
@main
struct Ckpt: ParsableCommand {
  static let version = CheckpointKitVersion.current

  static let configuration = CommandConfiguration(
    commandName: "ckpt",
    abstract: "Inspect, convert and verify neural-network checkpoints.",
    discussion: """
      Reads and writes safetensors (single and sharded), NumPy .npy/.npz, PyTorch torch.save archives (.pt/.pth/.bin, never executing pickled code), HDF5 including the Keras 2 and Keras 3 weight layouts, and more. Formats are detected by magic bytes, then by extension.

      Every command accepts --json for scripts. Errors exit 1 and name the file, the tensor and the byte offset; usage errors (a bad flag value, conflicting flags, a missing option) exit 64.
      """,
    version: version,
    subcommands: [
      Inspect.self, Convert.self, Check.self, Run.self, Verify.self, Diff.self, Quantize.self,
      QuantizeKernels.self,
    ]
  )

  /// Runs the command.
  ///
  /// `ckpt __hdf5-probe FILE` (hidden) is the child process that opens an
  /// untrusted HDF5 file first, so a libhdf5 crash cannot take `ckpt` down
  /// (see `HDF5Safety` and Docs/security.md).
  ///
  /// Usage errors (a bad flag value, conflicting flags, a missing option) exit 64; with
  /// `--json` they are also printed on standard output as
  /// `{"error": {"kind": "usage", "message": ...}}`, as `reportingErrors` prints other errors.
  static func main() {
    let arguments = CommandLine.arguments
    if arguments.count == 3, arguments[1] == "__hdf5-probe" {
      Foundation.exit(HDF5Safety.runProbe(path: arguments[2]))
    }
    HDF5Safety.probeCommand = [executablePath ?? arguments[0], "__hdf5-probe"]
    do {
      var command = try parseAsRoot()
      try command.run()
    } catch {
      if exitCode(for: error) == .validationFailure, asksForJSON(Array(arguments.dropFirst())) {
        let members: [(String, JSONValue)] = [
          ("kind", .string("usage")), ("message", .string(message(for: error))),
        ]
        emit(JSONValue.object([("error", .object(members))]).prettyText)
      }
      exit(withError: error)
    }
  }

  /// Whether `arguments` hold `--json` before any `--` (which ends the options).
  static func asksForJSON(_ arguments: [String]) -> Bool {
    arguments.prefix { $0 != "--" }.contains("--json")
  }

  /// This executable's path: the target of `/proc/self/exe` on Linux, which costs one
  /// system call where `Bundle.main` lists the executable's folder; elsewhere `Bundle.main`'s.
  static var executablePath: String? {
    #if os(Linux)
      var buffer = [UInt8](repeating: 0, count: 4096)
      let length = buffer.withUnsafeMutableBufferPointer { target in
        target.withMemoryRebound(to: CChar.self) { link in
          try? valueOrErrno("readlink", file: "/proc/self/exe") {
            readlink("/proc/self/exe", link.baseAddress!, link.count)
          }
        }
      }
      if let length, length > 0 && length < buffer.count {
        return String(decoding: buffer[..<length], as: UTF8.self)
      }
    #endif
    return Bundle.main.executablePath
  }
}
