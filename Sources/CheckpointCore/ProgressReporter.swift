/// Receives progress of long-running work measured in bytes.
///
/// Libraries call it; the `ckpt` tool draws a bar on a terminal. Calls may
/// come from several threads.
public protocol ProgressReporter: AnyObject, Sendable {
  /// Work of `totalBytes` bytes begins, described by `label`.
  func begin(label: String, totalBytes: Int)
  /// `bytes` more bytes are done.
  func advance(bytes: Int)
  /// The work is over (finished or failed).
  func end()
}
