import CheckpointCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The files beside a model that hold its external data, opened once each.
///
/// A `location` is a relative path inside the model's folder: an absolute path, a `..`
/// component, a backslash or a path whose real location (after symbolic links) lies outside the
/// folder is refused before anything is opened, as onnx's own loader refuses them.
final class ONNXExternalData {
  /// The folder holding the model file.
  let folder: String
  private var realFolder: String?
  private var files: [String: InputFile] = [:]

  /// The external data resolver of the model at `modelPath`.
  init(modelPath: String) {
    let parts = modelPath.split(separator: "/", omittingEmptySubsequences: false)
    let parent = parts.dropLast().joined(separator: "/")
    folder = parts.count == 1 ? "." : parent.isEmpty ? "/" : parent
  }

  /// Where the tensor whose `external_data` entries are `entries` lies: its file, offset and
  /// length, checked against the file's size and against `byteCount`.
  func locate(_ entries: [String: String], byteCount: Int) throws -> (file: InputFile, offset: Int) {
    guard let location = entries["location"], !location.isEmpty else {
      throw CheckpointError(.corrupt, "external data without a location")
    }
    let file = try open(location)
    let offset = try number(entries["offset"], "offset") ?? 0
    let length = try number(entries["length"], "length") ?? byteCount
    guard length == byteCount else {
      throw CheckpointError(
        .invalidShape, "external data length \(length) but the dims and type need \(byteCount) bytes")
    }
    guard offset <= file.size, length <= file.size - offset else {
      throw CheckpointError(
        .truncated,
        "external data '\(location)' holds \(file.size) bytes, the tensor needs \(length) at offset \(offset)"
      )
    }
    return (file, offset)
  }

  private func number(_ text: String?, _ key: String) throws -> Int? {
    guard let text else { return nil }
    guard let value = Int(text), value >= 0 else {
      throw CheckpointError(.corrupt, "external data \(key) '\(text)' is not a non-negative integer")
    }
    return value
  }

  /// The file `location` names, refusing a path that leaves the model's folder.
  private func open(_ location: String) throws -> InputFile {
    if let file = files[location] { return file }
    let components = location.split(separator: "/", omittingEmptySubsequences: false)
    guard !location.hasPrefix("/"), !location.contains("\\"), !location.contains("\0") else {
      throw CheckpointError(
        .corrupt,
        "external data location '\(location)' is absolute; only paths inside the model's folder are read")
    }
    guard !components.contains("..") else {
      throw CheckpointError(
        .corrupt, "external data location '\(location)' escapes the model's folder (..); refused")
    }
    let path = folder + "/" + location
    let folderReal = try realFolder ?? resolved(folder, what: "the model's folder")
    realFolder = folderReal
    let real = try resolved(path, what: "external data '\(location)'")
    guard real.hasPrefix(folderReal.hasSuffix("/") ? folderReal : folderReal + "/") else {
      throw CheckpointError(
        .corrupt,
        "external data location '\(location)' leads outside the model's folder (to \(real)); refused")
    }
    let file = try InputFile(path: real)
    files[location] = file
    return file
  }

  private func resolved(_ path: String, what: String) throws -> String {
    guard let pointer = realpath(path, nil) else {
      throw CheckpointError(.io, "\(what) cannot be opened (\(path)): \(String(cString: strerror(errno)))")
    }
    defer { free(pointer) }
    return String(cString: pointer)
  }
}
