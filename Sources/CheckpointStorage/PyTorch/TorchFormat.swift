import CheckpointCore

/// PyTorch `torch.save` zip archives (`.pt`, `.pth`, `.bin`, `.ckpt`).
///
/// Reading never executes anything: `data.pkl` is interpreted by a restricted
/// pickle machine with an allow-list of state-dict types (see `TorchArchive`).
/// Writing produces what `torch.save(state_dict)` produces: a zip of stored,
/// 64-byte-aligned records and a protocol-2 pickle of an `OrderedDict` of
/// tensors, loadable with `torch.load(path, weights_only=True)`.
///
/// Detection: a zip whose first entry is `<top>/data.pkl` or another torch
/// record (`byteorder`, `version`, `.format_version`, `data/<key>`), so it comes
/// before `npz` in `FormatRegistry/formats`; legacy (pre-1.6) pickles are
/// claimed too, so that reading them gives a clear "unsupported" error.
public enum TorchFormat: CheckpointFormat, KeyedCheckpointFormat {
  /// The name `--format` takes and `ckpt inspect` reports: `pytorch`.
  public static let identifier = "pytorch"
  /// The extensions that name this format, when writing and when no magic bytes match: `.ckpt`, `.pth`,
  /// `.bin`, `.pt`.
  public static let fileExtensions = ["ckpt", "pth", "bin", "pt"]
  /// String metadata is not written (the archive holds an `OrderedDict` of tensors only).
  public static let supportsMetadata = false

  /// Whether `prefix`, the file's first bytes, starts the way this format's files do.
  public static func matches(prefix: [UInt8]) -> Bool {
    if isLegacy(prefix: prefix) { return true }
    // Local file header: signature, then the name length at 26 and the name at 30.
    guard prefix.count >= 31, prefix.starts(with: [0x50, 0x4B, 0x03, 0x04]) else { return false }
    let nameLength = Int(prefix[26]) | Int(prefix[27]) << 8
    let name = String(decoding: prefix[30..<min(prefix.count, 30 + nameLength)], as: UTF8.self)
    let parts = name.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count >= 2, !parts[0].isEmpty else { return false }
    let record = parts.dropFirst().joined(separator: "/")
    if ["data.pkl", "byteorder", "version", ".format_version", ".storage_alignment"].contains(record) {
      return true
    }
    return parts.count == 3 && parts[1] == "data" && !parts[2].isEmpty && parts[2].allSatisfy(\.isNumber)
  }

  /// Whether `prefix` starts a legacy (pre-1.6) `torch.save` file: a protocol-2
  /// pickle of torch's magic number `0x1950a86a20f9469cfc6c`.
  static func isLegacy(prefix: [UInt8]) -> Bool {
    prefix.starts(with: [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19])
  }

  /// Reads the checkpoint at `path`, validating it as the type's documentation says; tensor bytes are read
  /// lazily.
  public static func read(path: String) throws -> Checkpoint {
    try TorchArchive.read(path: path)
  }

  /// Reads only the top-level entry `key` (a dict, e.g. `model` of a training checkpoint).
  public static func read(path: String, key: String) throws -> Checkpoint {
    try TorchArchive.read(path: path, key: key)
  }

  /// Writes `checkpoint` to `path` atomically: a temporary file in the same folder, synced, then renamed.
  public static func write(_ checkpoint: Checkpoint, to path: String, options: WriteOptions) throws {
    try TorchWriter.write(checkpoint, to: path, options: options)
  }
}
