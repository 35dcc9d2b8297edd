import CheckpointCore
import CheckpointStorage
import FuzzSupport

// Fuzzes the .ckz reader. Every .ckz structure carries a CRC32 (header, footer,
// index, chunks), which random mutations almost never match, so the harness
// repairs them first: it recomputes the header CRC, makes the footer's index
// length reach the footer, and recomputes the index and footer CRCs. The
// repaired file is read through the registry (chunk CRCs verified), and the
// same bytes through `CKZReader(bytes:verifyChecksums: false)`, so damaged
// chunk data reaches the decoders; every tensor is loaded both ways.

private let format = FuzzHarness.format(named: "ckz")

private func readLE64(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
  (0..<8).reduce(0) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
}

private func writeLE(_ value: UInt64, width: Int, into bytes: inout [UInt8], at offset: Int) {
  for index in 0..<width { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(index))) }
}

/// `bytes` with the header, index and footer checksums made to match.
private func repairingChecksums(_ input: [UInt8]) -> [UInt8] {
  var bytes = input
  guard bytes.count >= 96 else { return bytes }
  writeLE(UInt64(Zlib.crc32(Array(bytes[0..<60]))), width: 4, into: &bytes, at: 60)
  let footer = bytes.count - 32
  let offset = readLE64(bytes, footer)
  if offset <= UInt64(footer) {
    let start = Int(offset)
    writeLE(UInt64(footer - start), width: 8, into: &bytes, at: footer + 8)
    writeLE(UInt64(Zlib.crc32(Array(bytes[start..<footer]))), width: 4, into: &bytes, at: footer + 16)
  }
  writeLE(UInt64(Zlib.crc32(Array(bytes[footer..<footer + 20]))), width: 4, into: &bytes, at: footer + 20)
  return bytes
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let repaired = repairingChecksums(FuzzHarness.bytes(data, size))
  let path = FuzzHarness.writeInput(repaired, suffix: "ckz")
  FuzzHarness.readAndLoad(path: path, prefix: Array(repaired.prefix(64)), format: format)
  FuzzHarness.expectingCheckpointErrors {
    let reader = try CKZReader(bytes: repaired, verifyChecksums: false)
    FuzzHarness.loadAll(try reader.checkpoint())
  }
  return 0
}

@_cdecl("fuzz_ckz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  _ = format
  return FuzzHarness.driver(argc, argv, testOneInput)
}
