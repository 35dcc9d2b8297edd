import CheckpointCore
import CheckpointStorage
import FuzzSupport

// Fuzzes the restricted pickle VM and the torch tree walk behind a well-formed
// zip. The input is a list of records, each `u8 name length, name, u32 LE data
// length, data` (lengths clamped to the bytes left); the harness stores them in
// a valid zip (correct CRCs) and reads it as a torch.save archive, so mutations
// reach data.pkl, the storage records and the record names instead of dying on
// the zip framing (`fuzz-pytorch` covers that). `Fuzz/make_seeds.py` turns the
// PyTorch fixtures into such record lists.

private let format = FuzzHarness.format(named: "pytorch")

/// Splits the input into (name, data) records.
private func records(_ input: [UInt8]) -> [(name: [UInt8], data: [UInt8])] {
  var result: [(name: [UInt8], data: [UInt8])] = []
  var position = 0
  while position < input.count, result.count < 256 {
    let nameLength = min(Int(input[position]), input.count - position - 1)
    position += 1
    let name = Array(input[position..<position + nameLength])
    position += nameLength
    var dataLength = 0
    for index in 0..<4 where position + index < input.count {
      dataLength |= Int(input[position + index]) << (8 * index)
    }
    position = min(position + 4, input.count)
    dataLength = min(dataLength, input.count - position)
    result.append((name, Array(input[position..<position + dataLength])))
    position += dataLength
  }
  return result
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let archive = StoredZip.archive(records(FuzzHarness.bytes(data, size)))
  let path = FuzzHarness.writeInput(archive, suffix: "pt")
  FuzzHarness.readAndLoad(path: path, prefix: Array(archive.prefix(64)), format: format)
  return 0
}

@_cdecl("fuzz_pickle_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  _ = format
  return FuzzHarness.driver(argc, argv, testOneInput)
}
