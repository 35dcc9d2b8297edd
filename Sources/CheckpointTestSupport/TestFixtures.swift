import CheckpointCore
import Foundation

/// Paths and scratch folders for tests.
public enum TestFixtures {
  /// The repository root (found from this source file's path).
  public static let root: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  /// `Fixtures/<relative>` in the repository.
  public static func path(_ relative: String) -> String {
    root.appendingPathComponent("Fixtures").appendingPathComponent(relative).path
  }

  /// Reads a fixture file's bytes.
  public static func bytes(_ relative: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path(relative))))
  }

  /// A new empty folder under the system temporary folder, removed by the caller.
  public static func temporaryFolder(_ label: String = "ckpt-test") throws -> String {
    let url = FileManager.default.temporaryDirectory
      .appendingPathComponent("\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url.path
  }

  /// Runs `body` with a fresh temporary folder that is removed afterwards.
  public static func withTemporaryFolder<R>(_ body: (String) throws -> R) throws -> R {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    return try body(folder)
  }

  /// Writes `bytes` to `path`.
  public static func write(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
  }

  /// The `ckpt` executable built beside the tests.
  public static var ckptExecutable: String {
    let env = ProcessInfo.processInfo.environment
    if let explicit = env["CKPT"] { return explicit }
    // Test bundles live in .build/<triple>/debug; ckpt is built there too.
    let candidates = [
      root.appendingPathComponent(".build/debug/ckpt").path,
      Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("ckpt").path,
    ]
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
  }

  /// Result of running `ckpt`.
  public struct RunResult {
    /// The exit status.
    public var status: Int32
    /// Standard output.
    public var stdout: String
    /// Standard error.
    public var stderr: String
  }

  /// Runs `ckpt` with `arguments` (and `environment` on top of this process's) and captures its output.
  public static func runCkpt(_ arguments: [String], environment: [String: String] = [:]) throws -> RunResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: ckptExecutable)
    process.arguments = arguments
    if !environment.isEmpty {
      process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return RunResult(
      status: process.terminationStatus,
      stdout: String(decoding: outData, as: UTF8.self),
      stderr: String(decoding: errData, as: UTF8.self))
  }
}

extension TestFixtures {
  /// Reads the bytes of the file at an absolute `path`.
  public static func bytesAt(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
  }
}
