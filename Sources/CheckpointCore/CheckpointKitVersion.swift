/// This release of CheckpointKit: what `ckpt --version` prints and what written files record
/// as their tool (`ckpt 0.1.0`). The one place the version is spelled.
public enum CheckpointKitVersion {
  /// The version, `major.minor.patch`.
  public static let current = "0.1.0"
}
