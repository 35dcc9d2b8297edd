import CheckpointCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Finding the weights of a folder laid out as a Hugging Face model folder, in the order
/// transformers prefers them: the folder's single `*.safetensors.index.json` (sharded), else its
/// single `*.safetensors` file, else `pytorch_model.bin.index.json` (sharded `torch.save`
/// files), else `pytorch_model.bin`.
public enum SafetensorsFolder {
  /// PyTorch's weights in a Hugging Face folder: the shard index and the single file.
  public static let torchIndexName = "pytorch_model.bin.index.json"
  /// A model folder's single PyTorch weights file (transformers' `WEIGHTS_NAME`).
  public static let torchFileName = "pytorch_model.bin"

  /// The checkpoint file inside the folder `path`, or `nil` when `path` is not a folder.
  ///
  /// Hidden files (such as ckpt's temporary files) are ignored.
  /// - Throws: `.notFound` when the folder holds no candidate, `.invalidArgument`
  ///   when it holds several and the choice would be a guess.
  public static func checkpointFile(in path: String) throws -> String? {
    guard isFolder(path) else { return nil }
    let names = try entries(in: path).filter { !$0.hasPrefix(".") }
    let base = path.hasSuffix("/") ? path : path + "/"
    let indexes = names.filter { $0.hasSuffix(".safetensors.index.json") }
    if indexes.count == 1 { return base + indexes[0] }
    if indexes.count > 1 {
      throw CheckpointError(
        .invalidArgument,
        "folder holds \(indexes.count) safetensors indexes (\(indexes.joined(separator: ", "))); name one",
        file: path)
    }
    let files = names.filter { $0.hasSuffix(".safetensors") }
    if files.count == 1 { return base + files[0] }
    if files.isEmpty {
      for torch in [torchIndexName, torchFileName] where names.contains(torch) { return base + torch }
      throw CheckpointError(
        .notFound,
        "folder holds no *.safetensors.index.json, *.safetensors, \(torchIndexName) or \(torchFileName) file",
        file: path)
    }
    let shown = files.prefix(3).joined(separator: ", ") + (files.count > 3 ? ", ..." : "")
    throw CheckpointError(
      .invalidArgument, "folder holds \(files.count) .safetensors files and no index (\(shown)); name one",
      file: path)
  }

  /// The names in the folder `path`, sorted, but for `.` and `..` (hidden ones included).
  public static func entries(in path: String) throws -> [String] {
    let folder = try pointerOrErrno("opendir", file: path, failure: "cannot list the folder") {
      opendir(path)
    }
    defer { closedir(folder) }
    var names: [String] = []
    while let entry = readdir(folder) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
      }
      if name != ".", name != ".." { names.append(name) }
    }
    return names.sorted()
  }

  /// Whether `path` names a folder (following symbolic links).
  public static func isFolder(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
  }

  /// The folder part of `path` (`.` for a bare name).
  public static func folder(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    let folder = String(path[..<slash])
    return folder.isEmpty ? "/" : folder
  }

  /// Creates `path` and any missing parent folders.
  static func createFolder(_ path: String) throws {
    guard !path.isEmpty, !isFolder(path) else { return }
    if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
      try createFolder(String(path[..<slash]))
    }
    try valueOrErrno("mkdir", file: path, failure: "cannot create the folder", tolerating: [EEXIST]) {
      mkdir(path, 0o755)
    }
  }
}
