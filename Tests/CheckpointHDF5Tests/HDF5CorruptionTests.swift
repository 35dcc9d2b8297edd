import CheckpointCore
import CheckpointHDF5
import CheckpointTestSupport
import Foundation
import XCTest

/// Systematic damage to the HDF5 front door: every truncation and every
/// superblock byte at boundary values go through the Swift pre-validation;
/// the superblocks it lets through are read whole (libhdf5 behind the
/// child-process probe) and must give a checkpoint or a ``CheckpointError``.
/// Runs of damage deeper in the file are in `HDF5SafetyTests`.
final class HDF5CorruptionTests: XCTestCase {
  override func setUp() { HDF5Expected.enableProbe() }

  private let boundaryBytes: [UInt8] = [0x00, 0x01, 0x7F, 0x80, 0xFF]

  func testTruncationsAreRefusedBeforeLibhdf5() throws {
    try TestFixtures.withTemporaryFolder { folder in
      for fixture in ["hdf5/h5py_userblock.h5", "hdf5/keras3_bf16.weights.h5"] {
        let original = try TestFixtures.bytes(fixture)
        let path = folder + "/truncated.h5"
        // Every length of the small file; of the larger one every length of its first KiB, then every 13th.
        let lengths =
          original.count < 4096
          ? Array(0..<original.count)
          : Array(0..<1024) + Array(stride(from: 1024, to: original.count, by: 13))
        for length in lengths {
          try TestFixtures.write(Array(original.prefix(length)), to: path)
          XCTAssertThrowsError(try HDF5Safety.preValidate(path: path), "\(fixture) cut to \(length)") {
            error in
            XCTAssertTrue(error is CheckpointError, "\(fixture) cut to \(length): \(error)")
          }
        }
      }
    }
  }

  func testEverySuperblockByteAtBoundaryValues() throws {
    try TestFixtures.withTemporaryFolder { folder in
      var outcomes = (refusedEarly: 0, read: 0, refusedByProbeOrReader: 0)
      for (fixture, base) in [("hdf5/keras3_bf16.weights.h5", 0), ("hdf5/h5py_userblock.h5", 512)] {
        let original = try TestFixtures.bytes(fixture)
        for position in base..<base + 96 {
          for value in boundaryBytes where value != original[position] {
            var bytes = original
            bytes[position] = value
            let path = folder + "/case.h5"
            try TestFixtures.write(bytes, to: path)
            do {
              try HDF5Safety.preValidate(path: path)
            } catch is CheckpointError {
              outcomes.refusedEarly += 1
              continue
            }
            do {
              let checkpoint = try HDF5Format.read(path: path)
              for tensor in checkpoint.tensors { _ = try tensor.load() }
              outcomes.read += 1
            } catch let error as CheckpointError {
              XCTAssertEqual(error.file, path, "\(fixture) byte \(position) = \(value): \(error)")
              outcomes.refusedByProbeOrReader += 1
            }
          }
        }
      }
      XCTAssertGreaterThan(outcomes.refusedEarly, 50, "\(outcomes)")
      XCTAssertGreaterThan(outcomes.refusedByProbeOrReader, 10, "\(outcomes)")
    }
  }
}
