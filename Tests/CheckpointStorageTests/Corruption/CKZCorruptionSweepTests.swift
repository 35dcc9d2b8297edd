import CheckpointCore
import CheckpointStorage
import CheckpointTestSupport
import XCTest

/// `.ckz` files carry CRCs on every structure, so damage is caught by a
/// checksum (`CKZCorruptionTests` flips every bit). This sweep goes past the
/// checksums: every byte of the index is set to boundary values and the index
/// and footer CRCs are recomputed, so the index parser itself sees the damage;
/// the file is read without chunk verification and every tensor is loaded.
final class CKZCorruptionSweepTests: XCTestCase {
  private func le(_ bytes: [UInt8], _ offset: Int, _ width: Int) -> Int {
    (0..<width).reduce(0) { $0 | Int(bytes[offset + $1]) << (8 * $1) }
  }

  /// `bytes` with the index CRC and footer CRC recomputed.
  private func repaired(_ input: [UInt8], indexOffset: Int) -> [UInt8] {
    let footer = input.count - 32
    var bytes = Corruption.settingInteger(
      input, at: footer + 16, width: 4, to: UInt64(Zlib.crc32(Array(input[indexOffset..<footer]))))
    bytes = Corruption.settingInteger(
      bytes, at: footer + 20, width: 4, to: UInt64(Zlib.crc32(Array(bytes[footer..<footer + 20]))))
    return bytes
  }

  func testEveryIndexByteAtBoundaryValuesPastTheChecksums() throws {
    var outcomes = (read: 0, refused: 0)
    try MemoryCeiling.run {
      for fixture in ["ckz/stored.ckz", "ckz/zlib.ckz"] {
        let original = try TestFixtures.bytes(fixture)
        let footer = original.count - 32
        let indexOffset = le(original, footer, 8)
        XCTAssertNoThrow(try CKZReader(bytes: repaired(original, indexOffset: indexOffset)).checkpoint())
        for (label, damaged) in Corruption.boundaryChanges(original, in: indexOffset..<footer) {
          let bytes = repaired(damaged, indexOffset: indexOffset)
          do {
            let checkpoint = try CKZReader(bytes: bytes, verifyChecksums: false).checkpoint()
            for tensor in checkpoint.tensors {
              do {
                let loaded = try tensor.load()
                XCTAssertEqual(loaded.count, tensor.byteCount, "\(fixture) \(label)")
              } catch is CheckpointError {}
            }
            outcomes.read += 1
          } catch is CheckpointError {
            outcomes.refused += 1
          } catch {
            XCTFail("\(fixture) \(label): not a CheckpointError: \(error)")
          }
        }
      }
    }
    XCTAssertGreaterThan(outcomes.refused, 500, "\(outcomes)")
  }
}
