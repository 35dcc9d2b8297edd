import CheckpointCore

/// A format whose checkpoints nest, so that a sub-dict can be selected on
/// reading (`ckpt inspect --key model`).
public protocol KeyedCheckpointFormat: CheckpointFormat {
  /// Reads only the top-level entry `key`.
  static func read(path: String, key: String) throws -> Checkpoint
}
