import CheckpointCore
import XCTest

@testable import CheckpointStorage

final class PickleMachineTests: XCTestCase {
  /// `pickle.dumps([1, -2, 300, 70000, -(2**40), 2.5, 'é', b'\x00\x01', None, True, (1, 2)], protocol=3)`.
  static let scalars: [UInt8] = [
    128, 3, 93, 113, 0, 40, 75, 1, 74, 254, 255, 255, 255, 77, 44, 1, 74, 112, 17, 1, 0, 138, 6, 0, 0, 0, 0,
    0, 255, 71, 64, 4, 0, 0, 0, 0, 0, 0, 88, 2, 0, 0, 0, 195, 169, 113, 1, 67, 2, 0, 1, 113, 2, 78, 136, 75,
    1, 75, 2, 134, 113, 3, 101, 46,
  ]
  /// `pickle.dumps({'a': [1], 'b': {'c': 3}}, protocol=4)` (FRAME, MEMOIZE, SHORT_BINUNICODE).
  static let nested: [UInt8] = [
    128, 4, 149, 27, 0, 0, 0, 0, 0, 0, 0, 125, 148, 40, 140, 1, 97, 148, 93, 148, 75, 1, 97, 140, 1, 98, 148,
    125, 148, 140, 1, 99, 148, 75, 3, 115, 117, 46,
  ]

  func testScalarsAndContainersFromPythonsPickle() throws {
    let result = try PickleMachine.run(Self.scalars)
    guard case .list(let list) = result.root else { return XCTFail("\(result.root.typeName)") }
    let items = list.items
    XCTAssertEqual(items.count, 11)
    XCTAssertEqual(items[0].intValue, 1)
    XCTAssertEqual(items[1].intValue, -2)
    XCTAssertEqual(items[2].intValue, 300)
    XCTAssertEqual(items[3].intValue, 70000)
    XCTAssertEqual(items[4].intValue, -(1 << 40))
    guard case .float(2.5) = items[5], case .string("é") = items[6], case .bytes([0, 1]) = items[7],
      case .none = items[8], case .bool(true) = items[9], case .tuple(let pair) = items[10]
    else { return XCTFail("unexpected values \(items.map(\.typeName))") }
    XCTAssertEqual(pair.items.compactMap(\.intValue), [1, 2])

    let nested = try PickleMachine.run(Self.nested)
    guard case .dict(let dict) = nested.root, case .list(let a)? = dict[.string("a")],
      case .dict(let b)? = dict[.string("b")]
    else { return XCTFail("unexpected structure") }
    XCTAssertEqual(a.items.compactMap(\.intValue), [1])
    XCTAssertEqual(b[.string("c")]?.intValue, 3)
  }

  /// Builds a protocol-2 pickle from opcodes and raw operand bytes.
  private func pickle(_ parts: [[UInt8]]) -> [UInt8] {
    [0x80, 2] + parts.flatMap { $0 } + [PickleOpcode.stop.rawValue]
  }

  private func global(_ module: String, _ name: String) -> [UInt8] {
    [PickleOpcode.global.rawValue] + Array("\(module)\n\(name)\n".utf8)
  }

  private func assertRefused(
    _ bytes: [UInt8], _ kind: CheckpointError.Kind, _ phrase: String, file: StaticString = #filePath,
    line: UInt = #line
  ) {
    XCTAssertThrowsError(try PickleMachine.run(bytes, baseOffset: 1000), file: file, line: line) { error in
      let error = error as? CheckpointError
      XCTAssertEqual(error?.kind, kind, "\(String(describing: error))", file: file, line: line)
      XCTAssertTrue(
        error?.message.contains(phrase) ?? false, "\(String(describing: error))", file: file, line: line)
      XCTAssertGreaterThanOrEqual(error?.offset ?? 0, 1000, file: file, line: line)
    }
  }

  func testGlobalsOutsideTheAllowListAreRefusedByName() {
    assertRefused(pickle([global("posix", "system")]), .unsupported, "refused global posix.system")
    assertRefused(pickle([global("torch", "load")]), .unsupported, "refused global torch.load")
    assertRefused(pickle([global("torch._utils", "_rebuild_qtensor")]), .unsupported, "_rebuild_qtensor")
    // STACK_GLOBAL with strings on the stack, and REDUCE on a value-only global (a dtype).
    let stackGlobal: [[UInt8]] = [
      [0x8C, 8] + Array("builtins".utf8), [0x8C, 7] + Array("getattr".utf8),
      [PickleOpcode.stackGlobal.rawValue],
    ]
    assertRefused(pickle(stackGlobal), .unsupported, "refused global builtins.getattr")
    assertRefused(
      pickle([global("torch", "float32"), [PickleOpcode.emptyTuple.rawValue, PickleOpcode.reduce.rawValue]]),
      .unsupported, "refused call of torch.float32")
    // REDUCE on something that is not a global at all.
    assertRefused(
      pickle([[PickleOpcode.none.rawValue, PickleOpcode.emptyTuple.rawValue, PickleOpcode.reduce.rawValue]]),
      .unsupported, "REDUCE on a None")
  }

  func testOpcodesThatCallCodeAreRefused() {
    // INST, OBJ, NEWOBJ, EXT1: never interpreted.
    assertRefused(pickle([[0x69] + Array("os\nsystem\n".utf8)]), .unsupported, "INST")
    assertRefused(pickle([[0x28, 0x6F]]), .unsupported, "OBJ")
    assertRefused(pickle([[0x81]]), .unsupported, "NEWOBJ")
    assertRefused(pickle([[0x82, 1]]), .unsupported, "EXT1")
  }

  func testContainerOperationsAreTypeChecked() {
    let emptyList = PickleOpcode.emptyList.rawValue
    let emptyDict = PickleOpcode.emptyDict.rawValue
    let one: [UInt8] = [PickleOpcode.binInt1.rawValue, 1]
    // SETITEM / SETITEMS on a list, APPEND on a dict.
    assertRefused(
      pickle([[emptyList], one, one, [PickleOpcode.setItem.rawValue]]), .corrupt, "SETITEM on a list")
    assertRefused(
      pickle([[emptyList, PickleOpcode.mark.rawValue], one, one, [PickleOpcode.setItems.rawValue]]), .corrupt,
      "SETITEMS on a list")
    assertRefused(pickle([[emptyDict], one, [PickleOpcode.append.rawValue]]), .corrupt, "APPEND on a dict")
    // BUILD on a plain dict, and on an OrderedDict with a non-dict state.
    assertRefused(
      pickle([[emptyDict, emptyDict, PickleOpcode.build.rawValue]]), .unsupported, "BUILD on a dict")
    let orderedDict =
      global("collections", "OrderedDict") + [
        PickleOpcode.emptyTuple.rawValue, PickleOpcode.reduce.rawValue,
      ]
    assertRefused(
      pickle([orderedDict, [emptyList, PickleOpcode.build.rawValue]]), .unsupported, "BUILD with a list state"
    )
    // Unhashable dict keys.
    assertRefused(
      pickle([[emptyDict, emptyList], one, [PickleOpcode.setItem.rawValue]]), .unsupported, "dict key")
  }

  func testMalformedPicklesAreCorruptOrTruncated() {
    assertRefused([0x80, 2, PickleOpcode.binGet.rawValue, 7, 0x2E], .corrupt, "memo entry 7")
    assertRefused([0x80, 2, PickleOpcode.binUnicode.rawValue, 0xFF, 0xFF, 0xFF, 0x7F], .truncated, "string")
    assertRefused([0x80, 2, PickleOpcode.none.rawValue], .truncated, "without STOP")
    assertRefused([0x80, 2, PickleOpcode.none.rawValue, 0x2E, 0x4E], .corrupt, "after the pickle's STOP")
    assertRefused([0x80, 2, PickleOpcode.pop.rawValue, 0x2E], .corrupt, "underflow")
    assertRefused([0x80, 2, PickleOpcode.tuple.rawValue, 0x2E], .corrupt, "no MARK")
    assertRefused([0x80, 9, 0x4E, 0x2E], .unsupported, "protocol 9")
    assertRefused([0x80, 2, 0x8C, 2, 0xC3, 0x28, 0x2E], .corrupt, "UTF-8")
    assertRefused(
      [0x80, 2, PickleOpcode.long1.rawValue, 9] + [UInt8](repeating: 1, count: 9) + [0x2E], .unsupported,
      "64 bits")
  }

  func testTensorArgumentsAreChecked() throws {
    // A view past the end of its storage, and a storage persistent id with a wrong class.
    let storage = TorchStorageReference(key: "0", dtype: .f32, count: 4, location: "cpu")
    XCTAssertThrowsError(
      try TorchTensorReference(
        storage: storage, offset: 1, shape: [2, 2], strides: [2, 1], requiresGrad: false)
    ) { XCTAssertEqual(($0 as? CheckpointError)?.kind, .invalidShape) }
    XCTAssertNoThrow(
      try TorchTensorReference(
        storage: storage, offset: 0, shape: [2, 2], strides: [1, 2], requiresGrad: false))
    XCTAssertNoThrow(
      try TorchTensorReference(
        storage: storage, offset: 9, shape: [0, 5], strides: [5, 1], requiresGrad: false))
    XCTAssertThrowsError(
      try TorchTensorReference(storage: storage, offset: 0, shape: [2], strides: [-1], requiresGrad: false))
    XCTAssertThrowsError(
      try TorchTensorReference(
        storage: storage, offset: 0, shape: [Int.max, 2], strides: [Int.max, 1], requiresGrad: false))
    let arena = PickleArena()
    let pid = PickleValue.tuple(
      arena.track(
        PickleTuple([
          .string("storage"), .global(.dtype(name: "float32")), .string("0"), .string("cpu"), .int(4),
        ])))
    XCTAssertThrowsError(try PickleAllowList.persistentLoad(pid))
  }

  func testWriterOutputRunsBackThroughTheMachine() throws {
    let entries = [
      PickleWriter.Entry(name: "w", storageKey: "0", dtype: .bf16, storageCount: 6, shape: [2, 3]),
      PickleWriter.Entry(name: "tied", storageKey: "0", dtype: .bf16, storageCount: 6, shape: [2, 3]),
      PickleWriter.Entry(name: "big", storageKey: "1", dtype: .i8, storageCount: 1 << 33, shape: [1 << 33]),
      PickleWriter.Entry(name: "s", storageKey: "2", dtype: .bool, storageCount: 1, shape: []),
      PickleWriter.Entry(name: "r4", storageKey: "3", dtype: .f32, storageCount: 0, shape: [0, 1, 2, 3]),
    ]
    let result = try PickleMachine.run(PickleWriter.stateDict(entries))
    guard case .dict(let dict) = result.root, dict.isOrdered else { return XCTFail("not an OrderedDict") }
    XCTAssertEqual(dict.keys.map(\.pathComponent), ["w", "tied", "big", "s", "r4"])
    for entry in entries {
      guard case .tensor(let tensor)? = dict[.string(entry.name)] else { return XCTFail(entry.name) }
      XCTAssertEqual(tensor.storage.key, entry.storageKey)
      XCTAssertEqual(tensor.storage.dtype, entry.dtype)
      XCTAssertEqual(tensor.storage.count, entry.storageCount)
      XCTAssertEqual(tensor.shape, entry.shape)
      XCTAssertEqual(tensor.strides, PickleWriter.contiguousStrides(entry.shape))
      XCTAssertTrue(tensor.isContiguous)
    }
    XCTAssertThrowsError(
      try PickleWriter.stateDict([
        .init(name: "q", storageKey: "0", dtype: .q8_0, storageCount: 32, shape: [32])
      ]))
  }
}
