import CheckpointCore
import Foundation

/// A progress bar drawn on standard error for work over 64 MiB.
final class ProgressBar: ProgressReporter, @unchecked Sendable {
  /// Work smaller than this draws no bar.
  static let threshold = 64 << 20

  private let lock = NSLock()
  private var label = ""
  private var total = 0
  private var done = 0
  private var lastDrawn = -1
  private var active = false
  private var start = Date()

  func begin(label: String, totalBytes: Int) {
    lock.lock()
    defer { lock.unlock() }
    self.label = label
    total = totalBytes
    done = 0
    lastDrawn = -1
    start = Date()
    active = totalBytes > ProgressBar.threshold
    draw()
  }

  func advance(bytes: Int) {
    lock.lock()
    defer { lock.unlock() }
    done += bytes
    draw()
  }

  func end() {
    lock.lock()
    defer { lock.unlock() }
    if active {
      FileHandleStandardError.write("\r\u{1B}[2K")
    }
    active = false
  }

  private func draw() {
    guard active, total > 0 else { return }
    let permille = min(1000, done * 1000 / total)
    guard permille != lastDrawn else { return }
    lastDrawn = permille
    let width = 30
    let filled = permille * width / 1000
    let seconds = max(Date().timeIntervalSince(start), 1e-3)
    let rate = Double(done) / seconds / 1_048_576
    let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
    let text = String(
      format: "\r%@ [%@] %5.1f%% %.0f MiB/s", label, bar, Double(permille) / 10, rate)
    FileHandleStandardError.write(text)
  }
}
