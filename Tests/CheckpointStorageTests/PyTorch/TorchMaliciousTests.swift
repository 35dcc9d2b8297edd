import CheckpointCore
import CheckpointTestSupport
import XCTest

@testable import CheckpointStorage

/// The malicious corpus (Fixtures/pytorch/malicious, written by Python's pickle):
/// each would run `touch SENTINEL` under an unsafe loader. Every one must be
/// refused with the global named, and the sentinel must not exist afterwards.
final class TorchMaliciousTests: XCTestCase {
  static let sentinel = "/tmp/ckpt-pytorch-malicious-sentinel"
  static let cases: [(file: String, refusal: String)] = [
    ("os_system", "refused global posix.system"),
    ("builtins_eval", "refused global builtins.eval"),
    ("builtin_eval_protocol2", "refused global __builtin__.eval"),
    ("builtins_exec", "refused global builtins.exec"),
    ("subprocess_call", "refused global subprocess.call"),
    ("memo_stack_global", "refused global posix.system"),
    ("reduce_storage", "refused call of torch.FloatStorage"),
  ]

  func testMaliciousPicklesAreRefusedAndNothingRuns() throws {
    unlink(Self.sentinel)
    for (name, refusal) in Self.cases {
      let path = TestFixtures.path("pytorch/malicious/\(name).pt")
      XCTAssertThrowsError(try FormatRegistry.read(path: path), name) { error in
        let error = error as? CheckpointError
        XCTAssertEqual(error?.kind, .unsupported, name)
        XCTAssertTrue(error?.message.hasPrefix(refusal) ?? false, "\(name): \(String(describing: error))")
        XCTAssertEqual(error?.file, path)
        XCTAssertNotNil(error?.offset, name)
      }
    }
    XCTAssertEqual(access(Self.sentinel, F_OK), -1, "the sentinel file exists: something ran")
  }
}
