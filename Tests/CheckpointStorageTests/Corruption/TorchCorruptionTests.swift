import CheckpointCore
import CheckpointStorage
import CheckpointTestSupport
import XCTest

/// Systematic damage to `torch.save` archives: every truncation of the zip,
/// and every byte of `data.pkl` at boundary values, re-zipped with valid CRCs
/// so the damage reaches the pickle machine (random flips, cuts and
/// insertions are in `TorchMutationTests`, hostile pickles in `TorchMaliciousTests`).
final class TorchCorruptionTests: XCTestCase {
  private let fixtures = ["gru", "views"]

  func testEveryTruncationIsRefused() throws {
    try TestFixtures.withTemporaryFolder { folder in
      var harness = try CorruptionHarness(format: "pytorch", folder: folder, fileExtension: "pt")
      try MemoryCeiling.run {
        for fixture in fixtures {
          let path = "pytorch/\(fixture).pt"
          for (label, bytes) in Corruption.truncations(try TestFixtures.bytes(path)) {
            try harness.expectRefusal(bytes, "\(path) \(label)")
          }
        }
      }
    }
  }

  func testEveryPickleByteAtBoundaryValues() throws {
    try TestFixtures.withTemporaryFolder { folder in
      var harness = try CorruptionHarness(format: "pytorch", folder: folder, fileExtension: "pt")
      try MemoryCeiling.run {
        for fixture in fixtures {
          let zip = try ZipReader(path: TestFixtures.path("pytorch/\(fixture).pt"))
          let records = try zip.entries.map { ($0.name, try zip.read($0).array) }
          let pickleIndex = try XCTUnwrap(records.firstIndex { $0.0 == "\(fixture)/data.pkl" })
          // The unchanged records zipped again read fine.
          XCTAssertTrue(try harness.check(StoredZip.archive(records), "\(fixture) re-zipped"))
          let pickle = records[pickleIndex].1
          for (label, bytes) in Corruption.boundaryChanges(pickle, in: 0..<pickle.count) {
            var damaged = records
            damaged[pickleIndex].1 = bytes
            try harness.check(StoredZip.archive(damaged), "\(fixture) data.pkl \(label)")
          }
        }
      }
      XCTAssertGreaterThan(harness.outcomes.refused, 3000, "\(harness.outcomes)")
    }
  }

  /// Storage records cut short or grown past what the pickle declares.
  func testStorageRecordsOfTheWrongSizeAreRefused() throws {
    try TestFixtures.withTemporaryFolder { folder in
      var harness = try CorruptionHarness(format: "pytorch", folder: folder, fileExtension: "pt")
      try MemoryCeiling.run {
        let zip = try ZipReader(path: TestFixtures.path("pytorch/gru.pt"))
        let records = try zip.entries.map { ($0.name, try zip.read($0).array) }
        for (index, record) in records.enumerated() where record.0.hasPrefix("gru/data/") && !record.1.isEmpty
        {
          for data in [Array(record.1.dropLast()), record.1 + [0], []] {
            var damaged = records
            damaged[index].1 = data
            try harness.expectRefusal(StoredZip.archive(damaged), "\(record.0) with \(data.count) bytes")
          }
        }
      }
    }
  }
}
