import CheckpointCore
import CheckpointTestSupport
import XCTest

@testable import CheckpointStorage

/// Damaged pickles (seeded byte flips, truncations and insertions in real
/// `data.pkl`s, re-zipped with valid CRCs so they reach the pickle machine)
/// give a ``CheckpointError`` or a checkpoint whose tensors load or throw —
/// never a crash.
final class TorchMutationTests: XCTestCase {
  private struct Generator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return state ^ (state >> 29)
    }
  }

  func testDamagedPicklesNeverCrash() throws {
    var random = Generator(state: 0x5EED)
    var refused = 0
    var read = 0
    try TestFixtures.withTemporaryFolder { folder in
      for name in ["nested", "views", "dtypes"] {
        let zip = try ZipReader(file: InputFile(path: TestFixtures.path("pytorch/\(name).pt")))
        let pickle = try zip.read(XCTUnwrap(zip.entry(named: "\(name)/data.pkl"))).array
        let records = try zip.entries.filter { $0.name.hasPrefix("\(name)/data/") }.map {
          ($0.name, try zip.read($0).array)
        }
        for round in 0..<150 {
          var mutated = pickle
          switch round % 3 {
          case 0:
            for _ in 0..<Int.random(in: 1...4, using: &random) {
              mutated[Int.random(in: 0..<mutated.count, using: &random)] = UInt8.random(
                in: 0...255, using: &random)
            }
          case 1:
            mutated.removeLast(Int.random(in: 1..<mutated.count, using: &random))
          default:
            mutated.insert(
              UInt8.random(in: 0...255, using: &random), at: Int.random(in: 0..<mutated.count, using: &random)
            )
          }
          let path = folder + "/m\(round).pt"
          try AtomicFile.write(to: path) { file in
            let writer = ZipWriter(file: file)
            try mutated.withUnsafeBytes { try writer.add(name: "\(name)/data.pkl", bytes: $0) }
            for (recordName, bytes) in records {
              try bytes.withUnsafeBytes { try writer.add(name: recordName, bytes: $0, alignment: 64) }
            }
            try writer.finish()
          }
          do {
            let checkpoint = try TorchFormat.read(path: path)
            read += 1
            for tensor in checkpoint.tensors { _ = try? tensor.load() }
          } catch is CheckpointError {
            refused += 1
          }
          unlink(path)
        }
      }
    }
    XCTAssertEqual(refused + read, 450)
    XCTAssertGreaterThan(refused, 300)
  }
}
