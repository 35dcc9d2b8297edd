import CheckpointConversion
import CheckpointCore
import CheckpointStorage

extension Provenance {
  /// The provenance of a file written from `checkpoint`, as read from `path` before any change
  /// (layout conversion, quantization): its format, its layout and the path whose SHA-256
  /// writers record, with this tool's name and version.
  ///
  /// For a model folder, the path is its weights file (or their shard index).
  public static func source(_ path: String, _ checkpoint: Checkpoint) -> Provenance {
    Provenance(
      sourcePath: (try? SafetensorsFolder.checkpointFile(in: path)).flatMap { $0 } ?? path,
      sourceFormat: checkpoint.format,
      sourceLayout: LayoutDetector.detect(names: checkpoint.tensors.map(\.name)).layout.rawValue,
      tool: "ckpt \(CheckpointKitVersion.current)")
  }
}
