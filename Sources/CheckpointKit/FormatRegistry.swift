import CheckpointCore
import CheckpointHDF5
import CheckpointONNX
import CheckpointStorage

/// The formats `ckpt` knows, and how a file's format is chosen.
///
/// This umbrella target sees every storage target (CheckpointStorage, the
/// libhdf5-backed CheckpointHDF5 and the swift-protobuf-backed CheckpointONNX), so the list is complete and immutable.
public enum FormatRegistry {
  /// Every supported format, in detection order.
  public static let formats: [any CheckpointFormat.Type] =
    [
      SafetensorsFormat.self,
      ShardedSafetensorsFormat.self,
      // PyTorch before npz: both are zips; TorchFormat claims only zips whose first entry is a
      // torch record (`<top>/data.pkl`, `<top>/byteorder`, ...).
      TorchFormat.self,
      // NumPy: npz claims a zip by magic only when empty or when its first entry is a .npy.
      NPYFormat.self,
      NPZFormat.self,
      // CheckpointKit's native compressed format.
      CKZFormat.self,
      GGUFFormat.self,
      // HDF5: generic, Keras 2 and Keras 3 (detected by the HDF5 signature and layout).
    ] + HDF5Formats.all + [
      // ONNX has no magic: last, claiming only files that start like a ModelProto (else `.onnx`).
      ONNXFormat.self
    ]

  /// The identifiers of all formats, for help texts.
  public static var identifiers: [String] { formats.map { $0.identifier } }

  /// The format named `identifier` (as in `--format`).
  public static func format(named identifier: String) throws -> any CheckpointFormat.Type {
    guard let format = formats.first(where: { $0.identifier == identifier.lowercased() }) else {
      throw CheckpointError(
        .invalidArgument,
        "unknown format '\(identifier)' (known: \(identifiers.joined(separator: ", ")))")
    }
    return format
  }

  /// The format of an existing file: by magic bytes first, then by extension.
  ///
  /// A folder is detected as the checkpoint file it holds (see `SafetensorsFolder`).
  public static func detect(path: String) throws -> any CheckpointFormat.Type {
    if let file = try SafetensorsFolder.checkpointFile(in: path) {
      return file.hasSuffix("/" + SafetensorsFolder.torchIndexName)
        ? TorchFormat.self : try detect(path: file)
    }
    let file = try InputFile(path: path)
    let prefix = try file.read(count: min(64, file.size), at: 0)
    if let format = formats.first(where: { $0.matches(prefix: prefix) }) {
      return format
    }
    if let format = format(forExtensionOf: path) {
      return format
    }
    throw CheckpointError(
      .badFormat, "unrecognised file format (no known magic bytes or extension)", file: path)
  }

  /// The format whose extension `path` ends with (longest match), if any.
  public static func format(forExtensionOf path: String) -> (any CheckpointFormat.Type)? {
    let name = path.split(separator: "/").last.map(String.init)?.lowercased() ?? path.lowercased()
    var best: (format: any CheckpointFormat.Type, length: Int)?
    for format in formats {
      for ext in format.fileExtensions where name.hasSuffix("." + ext) {
        if ext.count > (best?.length ?? -1) { best = (format, ext.count) }
      }
    }
    return best?.format
  }

  /// Reads the checkpoint at `path`, detecting its format (or using `format`).
  ///
  /// With `key`, reads only that top-level entry of a nested checkpoint
  /// (`--key model`); only `KeyedCheckpointFormat`s support it.
  ///
  /// A folder reads as a Hugging Face model folder (``ModelFolder``): its weights and its
  /// `config.json`.
  public static func read(path: String, format: String? = nil, key: String? = nil) throws -> Checkpoint {
    if SafetensorsFolder.isFolder(path) {
      return try CheckpointError.locating(file: path) {
        let checkpoint = try ModelFolder.read(path: path, key: key)
        if let format, try self.format(named: format).identifier != checkpoint.format,
          !(format == ShardedSafetensorsFormat.identifier
            && checkpoint.format == SafetensorsFormat.identifier)
        {
          throw CheckpointError(
            .invalidArgument, "the folder's weights are \(checkpoint.format), not --format \(format)")
        }
        return checkpoint
      }
    }
    let handler = try format.map { try self.format(named: $0) } ?? detect(path: path)
    return try CheckpointError.locating(file: path) {
      guard let key else { return try handler.read(path: path) }
      guard let keyed = handler as? any KeyedCheckpointFormat.Type else {
        throw CheckpointError(.invalidArgument, "--key is not supported for \(handler.identifier) files")
      }
      return try keyed.read(path: path, key: key)
    }
  }

  /// The metadata of `checkpoint` that belongs to its weights, as its source format defines it
  /// (`CheckpointFormat/userMetadata(_:)`): what ``write(_:to:format:options:)`` carries into
  /// the file it writes. A `.ckz` file's provenance (`ckz.*`) describes that file and is left out.
  public static func userMetadata(of checkpoint: Checkpoint) -> [String: String] {
    guard let source = formats.first(where: { $0.identifier == checkpoint.format }) else {
      return checkpoint.metadata
    }
    return source.userMetadata(checkpoint.metadata)
  }

  /// Writes `checkpoint` to `path` in `format`, or in the format its extension names (a path
  /// ending in `/`, or an existing folder, is a Hugging Face model folder: ``ModelFolder``), with
  /// the metadata that belongs to its weights (``userMetadata(of:)``).
  public static func write(
    _ checkpoint: Checkpoint, to path: String, format: String? = nil, options: WriteOptions = .init()
  ) throws {
    if format == nil, path.hasSuffix("/") || SafetensorsFolder.isFolder(path) {
      var checkpoint = checkpoint
      checkpoint.metadata = userMetadata(of: checkpoint)
      return try CheckpointError.locating(file: path) {
        try ModelFolder.write(checkpoint, to: path, options: options)
      }
    }
    let handler: any CheckpointFormat.Type
    if let format {
      handler = try self.format(named: format)
    } else if let byExtension = self.format(forExtensionOf: path) {
      handler = byExtension
    } else {
      throw CheckpointError(
        .invalidArgument,
        "cannot tell the output format from the file name; pass --format (\(identifiers.joined(separator: ", ")))",
        file: path)
    }
    var checkpoint = checkpoint
    checkpoint.metadata = userMetadata(of: checkpoint)
    var options = options
    let reporter = options.progress
    if let progress = reporter {
      // Progress is counted generically as tensors are loaded for writing.
      checkpoint.tensors = checkpoint.tensors.map { $0.reportingProgress(to: progress) }
      options.progress = nil
      progress.begin(label: "writing \(path)", totalBytes: checkpoint.byteCount)
    }
    defer { reporter?.end() }
    try CheckpointError.locating(file: path) {
      try handler.write(checkpoint, to: path, options: options)
    }
  }
}

extension FormatRegistry {
  /// The identifier of the format `path`'s extension names.
  public static func outputFormat(for path: String) throws -> String {
    guard let format = format(forExtensionOf: path) else {
      throw CheckpointError(.invalidArgument, "cannot tell the output format from the file name", file: path)
    }
    return format.identifier
  }
}
