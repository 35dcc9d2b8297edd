import CheckpointCore
import CheckpointStorage
import CheckpointTestSupport
import XCTest

/// Random damage to numpy's files: every outcome is a value or a CheckpointError, never a crash.
final class NumPyMutationTests: XCTestCase {
  /// A small deterministic generator (SplitMix64), so failures reproduce.
  private struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
  }

  func testRandomDamageNeverCrashes() throws {
    let iterations = Int(ProcessInfo.processInfo.environment["CKPT_MUTATIONS"] ?? "") ?? 300
    var random = SplitMix(state: 20_261_129)
    try TestFixtures.withTemporaryFolder { folder in
      for (file, format) in [
        ("savez.npz", "npz"), ("savez_compressed.npz", "npz"), ("zip64.npz", "npz"), ("streamed.npz", "npz"),
        ("fortran_be_f8.npy", "npy"),
      ] {
        let original = try TestFixtures.bytes("numpy/" + file)
        let path = folder + "/" + file
        for _ in 0..<iterations {
          var bytes = original
          for _ in 0..<Int.random(in: 1...4, using: &random) {
            let position = Int.random(in: 0..<bytes.count, using: &random)
            switch Int.random(in: 0..<3, using: &random) {
            case 0: bytes[position] = UInt8.random(in: 0...255, using: &random)
            case 1: bytes[position] ^= 1 << UInt8.random(in: 0..<8, using: &random)
            default: bytes[position] = [0x00, 0xFF, 0x7F, 0x80][Int.random(in: 0..<4, using: &random)]
            }
          }
          try TestFixtures.write(bytes, to: path)
          do {
            _ = try NumPyTestSupport.readAndLoad(path, format: format)
          } catch let error as CheckpointError {
            XCTAssertEqual(error.file, path, "\(error)")
          }
        }
      }
    }
  }
}
