import ArgumentParser
import CheckpointCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Flags every command shares.
struct OutputOptions: ParsableArguments {
  @Flag(help: "Print machine-readable JSON on standard output.")
  var json = false

  @Flag(name: .shortAndLong, help: "Print nothing but errors; no progress bar.")
  var quiet = false

  /// A progress bar on a terminal standard error, unless quiet or JSON.
  func progressBar() -> ProgressBar? {
    guard !quiet, !json, isatty(STDERR_FILENO) != 0 else { return nil }
    return ProgressBar()
  }
}

/// Prints text on standard output.
func emit(_ text: String) {
  print(text)
}

/// Prints a message on standard error.
func warn(_ text: String) {
  FileHandleStandardError.write("warning: " + text + "\n")
}

enum FileHandleStandardError {
  static func write(_ text: String) {
    var copy = text
    copy.withUTF8 { buffer in
      _ = fwrite(buffer.baseAddress, 1, buffer.count, stderr)
    }
  }
}

/// Runs a command body; with `--json`, an error is also printed as a JSON
/// object on standard output before the non-zero exit.
func reportingErrors(json: Bool, _ body: () throws -> Void) throws {
  do {
    try body()
  } catch let error as CheckpointError {
    if json {
      var members: [(String, JSONValue)] = [
        ("kind", .string(error.kind.rawValue)), ("message", .string(error.message)),
      ]
      if let file = error.file { members.append(("file", .string(file))) }
      if let tensor = error.tensor { members.append(("tensor", .string(tensor))) }
      if let offset = error.offset { members.append(("offset", .integer(Int64(offset)))) }
      emit(JSONValue.object([("error", .object(members))]).prettyText)
    }
    throw error
  }
}
